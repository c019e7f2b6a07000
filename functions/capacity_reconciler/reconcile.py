"""The capacity reconciler: the HPA minimum the failover controller recorded, applied.

Runs once a minute in every region's cluster (the CronJob of
`components/capacity_reconciler.py`): reads `REGION#<stack>` / `CAPACITY` from its
region's replica of the state table (boto3, the pod's IRSA role: `dynamodb:GetItem`),
reads the app's HPAs by name through the in-cluster Kubernetes API with the pod's
service-account token, and patches those whose minimum differs (the decision is
`infra.domain.hpa.reconcile`, the one `python -m infra.cli hpa-reconcile` uses). It needs
the standard library and boto3 only, both in AWS's Python image.
Nothing recorded means nothing to do. Any failure ends the run with exit status 1, so
the Job fails visibly and the next minute's run tries again.

Environment: `HSE_STACK`, `HSE_STATE_TABLE`, `HSE_NAMESPACE`, `HSE_HPAS` (comma-separated
names), `AWS_REGION`; in the pod, `KUBERNETES_SERVICE_HOST` / `_PORT` as Kubernetes sets them.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request
from typing import Any, Callable, Mapping, Optional

from infra.domain.failover_state import capacity_key, decode, encode
from infra.domain.hpa import Hpa, reconcile as decide, recorded_minimum

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
MERGE_PATCH = "application/merge-patch+json"


class KubeError(Exception):
    """The Kubernetes API refused or failed a call."""


class KubeApi:
    """The in-cluster Kubernetes API over HTTPS, authenticated with a bearer token."""

    def __init__(self, host: str, token: str, context: Optional[ssl.SSLContext] = None,
                 opener: Optional[Callable[..., Any]] = None):
        self.host = host.rstrip("/")
        self.token = token
        self.context = context
        self.opener = opener or urllib.request.urlopen

    @classmethod
    def in_cluster(cls, env: Mapping[str, str], account_dir: str = SERVICE_ACCOUNT_DIR) -> "KubeApi":
        with open(f"{account_dir}/token") as token:
            return cls(f"https://{env['KUBERNETES_SERVICE_HOST']}:{env['KUBERNETES_SERVICE_PORT']}", token.read().strip(),
                       ssl.create_default_context(cafile=f"{account_dir}/ca.crt"))

    def _hpa_path(self, namespace: str, name: str) -> str:
        return f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"

    def _call(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = MERGE_PATCH
        request = urllib.request.Request(f"{self.host}{path}", data=data, method=method, headers=headers)
        try:
            with self.opener(request, context=self.context, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
            raise KubeError(f"{method} {path}: {exc}") from None

    def get_hpa(self, namespace: str, name: str) -> dict:
        return self._call("GET", self._hpa_path(namespace, name))

    def patch_hpa(self, namespace: str, name: str, patch: dict) -> dict:
        return self._call("PATCH", self._hpa_path(namespace, name), patch)


def read_capacity(dynamodb: Any, table: str, stack: str) -> Optional[dict]:
    """The region's capacity item, or None when the controller recorded none."""
    item = dynamodb.get_item(TableName=table, Key=encode(capacity_key(stack)), ConsistentRead=True).get("Item")
    return decode(item) if item else None


def reconcile(env: Mapping[str, str], dynamodb: Any, api: KubeApi, log: Callable[[str], None] = print) -> int:
    """One run; the exit status (0 done or nothing to do, 1 a recorded value no HPA can take)."""
    stack, namespace = env["HSE_STACK"], env["HSE_NAMESPACE"]
    names = [n for n in env["HSE_HPAS"].split(",") if n]
    try:
        minimum = recorded_minimum(read_capacity(dynamodb, env["HSE_STATE_TABLE"], stack))
    except ValueError as exc:
        log(f"{stack}: {exc}; nothing patched")
        return 1
    if minimum is None:
        log(f"{stack}: no capacity recorded; the HPAs stay as declared")
        return 0
    current = {}
    for name in names:
        spec = api.get_hpa(namespace, name).get("spec") or {}
        current[name] = Hpa(name, int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1))
    changes = decide(current.values(), minimum)
    for patch in changes:
        api.patch_hpa(namespace, patch.name, patch.body)
        log(f"{stack}: {namespace}/{patch.name} minReplicas {current[patch.name].min_replicas} -> {minimum}")
    if not changes:
        log(f"{stack}: every HPA already has minReplicas {minimum}")
    return 0


def main() -> int:
    import boto3  # in the image (AWS's Python base image), not in the package

    env = os.environ
    try:
        return reconcile(env, boto3.client("dynamodb", region_name=env["AWS_REGION"]), KubeApi.in_cluster(env))
    except Exception as exc:  # noqa: BLE001 - the Job's status is the report
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
