"""Scaling a promoted region up to the primary's capacity, and back after a failback.

The node group is scaled directly (`eks:UpdateNodegroupConfig`). The HPA's minimum is a
Kubernetes object behind the cluster's private API, which the controller's Lambda neither
reaches nor holds credentials for: it records the desired minimum in the state store
(`REGION#<stack>` / `CAPACITY`), and `infra/ops/hpa.py` applies it through the
Kubernetes API: at once when the controller runs with a cluster client (`hpa_api`,
`python -m infra.cli failover --apply-hpa`), later from the record
(`python -m infra.cli hpa-reconcile`, and every minute the in-cluster CronJob of
`components/capacity_reconciler.py`). A patch
that fails never fails the failover: the record stays for the reconciler.
"""

from __future__ import annotations

from typing import Callable, Optional

from infra.domain.platform import RegionRecord
from infra.ops.hpa import AutoscalingApi, HpaReconciler
from infra.ops.state import StateStore


class Capacity:
    def __init__(self, clients, store: StateStore, hpa_api: Optional[Callable[[RegionRecord], AutoscalingApi]] = None):
        self.clients = clients
        self.store = store
        self.hpa_api = hpa_api
        """Region -> a client of its cluster's autoscaling API; None: only record the minimum."""

    def node_group(self, region: RegionRecord) -> dict:
        eks = self.clients("eks", region.aws_region)
        return eks.describe_nodegroup(clusterName=region.eks_cluster_name,
                                      nodegroupName=region.eks_node_group_name)["nodegroup"]["scalingConfig"]

    def scale_to(self, region: RegionRecord, instances: int, reason: str) -> str:
        current = self.node_group(region)
        scaling = {"minSize": instances, "desiredSize": instances, "maxSize": max(int(current["maxSize"]), instances)}
        self.clients("eks", region.aws_region).update_nodegroup_config(
            clusterName=region.eks_cluster_name, nodegroupName=region.eks_node_group_name, scalingConfig=scaling)
        self.store.set_capacity(region.stack, hpa_min_replicas=instances, node_count=instances, reason=reason)
        nodes = f"{region.eks_node_group_name}: {current['desiredSize']} -> {instances} nodes"
        if self.hpa_api is None:
            return f"{nodes}; HPA minimum {instances} recorded for the cluster side"
        try:
            applied = HpaReconciler(self.hpa_api(region)).apply(instances)
        except Exception as exc:  # the Kubernetes client's own errors: never fail the failover for them
            return (f"{nodes}; HPA minimum {instances} recorded, not applied ({type(exc).__name__}: {exc}); "
                    f"python -m infra.cli hpa-reconcile --stack {region.stack} applies it")
        return f"{nodes}; {applied}"
