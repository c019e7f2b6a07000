"""The cluster side of a failover's scale-up: a CronJob in the app's namespace that applies
the HPA minimum the failover controller records in the state table
(`infra/domain/hpa.py` has the decision and the reconciler's rights,
`functions/capacity_reconciler/reconcile.py` the script).

- identity: its own service account, whose IRSA role reads the state table only
  (`dynamodb:GetItem`); the role is made by the cluster (`EksCluster.service_account_role`);
- Kubernetes rights: a Role in the app's namespace with `get` and `patch` on exactly the
  app's HPAs (by name), bound to that service account; nothing cluster-wide;
- code: the script and the few modules it imports, mounted from a ConfigMap into AWS's
  Python image (Python and boto3), so no image of our own has to be built and pushed;
- the pod: non-root, read-only root filesystem, no capabilities, no privilege
  escalation, small requests, one run at a time (`concurrencyPolicy: Forbid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from infra.domain.hpa import (RECONCILER, RECONCILER_CODE_DIR as CODE_DIR, RECONCILER_ENTRY as ENTRY,
                              RECONCILER_IMAGE as IMAGE, RECONCILER_SCHEDULE as SCHEDULE, hpa_name, reconciler_rules)


@dataclass(frozen=True)
class CapacityReconcilerArgs:
    """Inputs of `CapacityReconciler`."""

    stack: str
    aws_region: str
    namespace: str
    """The app's namespace, where its HPAs are."""
    colours: Sequence[str]
    """The deployed colours: their HPAs are `hse-app-<colour>`."""
    state_table: str
    """The state table's name (its replica in this region is read)."""
    role_arn: pulumi.Input[str]
    """The IRSA role of the reconciler's service account."""
    files: Mapping[str, str]
    """Package path -> source of the script and what it imports (`infra.domain.failover_package.sources`)."""


def config_key(path: str) -> str:
    """A ConfigMap key for a package path (keys take no '/')."""
    return path.replace("/", "__")


class CapacityReconciler(pulumi.ComponentResource):
    """The reconciler's service account, Role, RoleBinding, code and CronJob."""

    def __init__(self, name: str, args: CapacityReconcilerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:workloads:CapacityReconciler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"name": RECONCILER, "namespace": args.namespace, "labels": {"app": RECONCILER}}
        account = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata={
            **meta, "annotations": {"eks.amazonaws.com/role-arn": args.role_arn}}, opts=child)
        role = k8s.rbac.v1.Role(f"{name}-role", metadata=meta, rules=reconciler_rules(args.colours), opts=child)
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-binding", metadata=meta,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": RECONCILER},
            subjects=[{"kind": "ServiceAccount", "name": RECONCILER, "namespace": args.namespace}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account, role]))
        code = k8s.core.v1.ConfigMap(f"{name}-code", metadata=meta,
                                     data={config_key(path): text for path, text in sorted(args.files.items())},
                                     opts=child)
        module = ENTRY.removesuffix(".py").replace("/", ".")
        container = {
            "name": "reconcile", "image": IMAGE, "command": ["python3", "-m", module], "workingDir": CODE_DIR,
            "env": [{"name": "HSE_STACK", "value": args.stack}, {"name": "HSE_STATE_TABLE", "value": args.state_table},
                    {"name": "HSE_NAMESPACE", "value": args.namespace},
                    {"name": "HSE_HPAS", "value": ",".join(sorted(hpa_name(c) for c in args.colours))},
                    {"name": "AWS_REGION", "value": args.aws_region},
                    {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
                    {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "code", "mountPath": CODE_DIR, "readOnly": True}],
        }
        self.cron_job = k8s.batch.v1.CronJob(f"{name}-cron", metadata=meta, spec={
            "schedule": SCHEDULE, "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 30,
            "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {"backoffLimit": 0, "activeDeadlineSeconds": 55, "ttlSecondsAfterFinished": 600,
                                     "template": {"metadata": {"labels": {"app": RECONCILER}}, "spec": {
                                         "serviceAccountName": RECONCILER, "restartPolicy": "Never",
                                         "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                                             "runAsGroup": 65532, "fsGroup": 65532,
                                                             "seccompProfile": {"type": "RuntimeDefault"}},
                                         "containers": [container],
                                         "volumes": [{"name": "code", "configMap": {
                                             "name": RECONCILER, "items": [{"key": config_key(p), "path": p}
                                                                          for p in sorted(args.files)]}}]}}}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding, code]))
        self.register_outputs({"cronJob": RECONCILER, "schedule": SCHEDULE})
