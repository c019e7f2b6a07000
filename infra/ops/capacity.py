"""Scaling a promoted region up to the primary's capacity, and back after a failback.

The node group is scaled directly (`eks:UpdateNodegroupConfig`). The HPA's minimum is a
Kubernetes object the controller does not reach (it holds no cluster credentials): it
records the desired minimum in the state store (`REGION#<stack>` / `CAPACITY`) and the
cluster side applies it. The workloads tier runs that reconciler in the `hse`
namespace: a CronJob every minute whose service account (IRSA, `dynamodb:GetItem` on
the state table) reads the item and patches `horizontalpodautoscaler/hse-app`'s
`spec.minReplicas`; see docs/runbooks/failover.md for the manual equivalent.
"""

from __future__ import annotations

from infra.domain.platform import RegionRecord
from infra.ops.state import StateStore


class Capacity:
    def __init__(self, clients, store: StateStore):
        self.clients = clients
        self.store = store

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
        return (f"{region.eks_node_group_name}: {current['desiredSize']} -> {instances} nodes; "
                f"HPA minimum {instances} recorded for the cluster side")
