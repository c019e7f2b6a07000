"""Applying the recorded HPA minimum to a region's cluster through the Kubernetes API.

The failover controller's Lambda holds no cluster credentials and cannot reach the
private EKS API: it scales the node group and records the minimum the application's
autoscalers need (`REGION#<stack>/CAPACITY`). This module applies it, given a client of
the Kubernetes autoscaling/v2 API (`kubernetes.client.AutoscalingV2Api` or anything
with its two methods), in three ways:

- `python -m infra.cli failover ... --apply-hpa` (and `failback ... --apply-hpa`): the
  operator's run of the controller patches the promoted (or returning) region's HPAs
  right after scaling its nodes, from a machine that reaches the cluster's API (the
  admin VPN or the deployer's network) with a kubeconfig context named after the
  cluster (`aws eks update-kubeconfig --name <eksClusterName> --alias <eksClusterName>`);
- `python -m infra.cli hpa-reconcile --stack <stack> --state-region <region>`: read the
  recorded minimum and apply it (after the Lambda failed over on its own);
- in the cluster, on its own: the CronJob `hse-capacity-reconciler` every region declares
  (`components/capacity_reconciler.py`) runs the same decision from a standard-library
  script (`functions/capacity_reconciler/reconcile.py`), with a service account bound by
  IRSA to `dynamodb:GetItem` on the state table and by RBAC to get and patch the app's
  HPAs by name (docs/operations.md, "Scaling the promoted region"); `--in-cluster` runs
  this module the same way from a pod that has the project and the Kubernetes client.

The decision itself is pure (`infra/domain/hpa.py`); the patch is a JSON merge patch.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from infra.domain.hpa import NAMESPACE, Hpa, reconcile
from infra.domain.platform import RegionRecord
from infra.ops.state import StateStore


class AutoscalingApi(Protocol):
    def list_namespaced_horizontal_pod_autoscaler(self, namespace: str, **kwargs: Any) -> Any: ...
    def patch_namespaced_horizontal_pod_autoscaler(self, name: str, namespace: str, body: Any, **kwargs: Any) -> Any: ...


class HpaError(Exception):
    """The recorded minimum cannot be applied (no record, no client)."""


class HpaReconciler:
    def __init__(self, api: AutoscalingApi):
        self.api = api

    def current(self) -> list[Hpa]:
        listed = self.api.list_namespaced_horizontal_pod_autoscaler(NAMESPACE)
        return [Hpa(item.metadata.name, int(item.spec.min_replicas or 1), int(item.spec.max_replicas))
                for item in listed.items]

    def apply(self, wanted_min: int) -> str:
        """Give every application HPA the minimum `wanted_min`; says what changed."""
        hpas = self.current()
        patches = reconcile(hpas, wanted_min)
        for patch in patches:
            self.api.patch_namespaced_horizontal_pod_autoscaler(patch.name, NAMESPACE, patch.body)
        if not patches:
            names = ", ".join(h.name for h in hpas) or "no application HPA"
            return f"HPA minimum {wanted_min} already set ({names})"
        return "HPA " + "; ".join(
            f"{p.name} minimum {wanted_min}" + (f" (maximum raised to {p.body['spec']['maxReplicas']})"
                                                 if "maxReplicas" in p.body["spec"] else "") for p in patches)

    def from_state(self, store: StateStore, stack: str) -> str:
        """Apply what the controller recorded for `stack`."""
        record = store.capacity(stack)
        if record is None:
            raise HpaError(f"no capacity recorded for {stack} (REGION#{stack}/CAPACITY): nothing to apply")
        return self.apply(int(record["hpa_min_replicas"]))


def kubernetes_api(context: Optional[str] = None, in_cluster: bool = False) -> AutoscalingApi:
    """An autoscaling/v2 client from a kubeconfig context (or the pod's service account).
    Needs the `kubernetes` Python package, which only this operator path uses."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise HpaError("applying the HPA minimum needs the kubernetes package: pip install kubernetes") from None
    if in_cluster:
        config.load_incluster_config()
    else:
        config.load_kube_config(context=context)
    return client.AutoscalingV2Api()


def api_for_region(region: RegionRecord) -> AutoscalingApi:
    """The client of `region`'s cluster: the kubeconfig context named after its EKS cluster."""
    return kubernetes_api(context=region.eks_cluster_name)
