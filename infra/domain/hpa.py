"""What the application's autoscalers must look like after a failover or a failback: a pure
decision, from the HPAs as the cluster reports them and the minimum the state store holds.

The workloads tier declares one HorizontalPodAutoscaler per deployed colour,
`hse-app-<colour>` in namespace `hse` (`components/app_workload.py`), with the region's
own `hse:appInstanceCount` as its minimum. After a failover the promoted region must
carry the primary's load at once: its minimum becomes the primary's instance count (the
controller records it as `REGION#<stack>/CAPACITY`, `hpa_min_replicas`); after a
failback the interim region returns to its own count. Every colour's autoscaler is
raised, since either colour may take the region's traffic after a blue-green switch.
Kubernetes refuses an HPA whose `minReplicas` exceeds its `maxReplicas`, so a maximum
below the new minimum is raised with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

NAMESPACE = "hse"
APP_HPA_PREFIX = "hse-app-"

# The in-cluster reconciler (`components/capacity_reconciler.py`): a CronJob every minute
# that runs `RECONCILER_ENTRY` (standard library and boto3 only) in AWS's Python image,
# the script and the modules it imports mounted from a ConfigMap, so no image of the
# project's own has to be built.
RECONCILER = "hse-capacity-reconciler"
"""The name of its service account, Role, RoleBinding, ConfigMap and CronJob."""
RECONCILER_ENTRY = "functions/capacity_reconciler/reconcile.py"
RECONCILER_SCHEDULE = "* * * * *"
RECONCILER_IMAGE = "public.ecr.aws/lambda/python:3.12"
"""AWS's Python 3.12 image: Python and boto3 (the AWS SDK the Lambda runtime carries)."""
RECONCILER_CODE_DIR = "/opt/reconciler"


@dataclass(frozen=True)
class Hpa:
    name: str
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class HpaPatch:
    name: str
    body: dict[str, Any]
    """A JSON merge patch of the HPA (`{"spec": {...}}`)."""


def hpa_name(colour: str) -> str:
    return f"{APP_HPA_PREFIX}{colour}"


def reconcile(hpas: Iterable[Hpa], wanted_min: int) -> list[HpaPatch]:
    """The patches that give every application HPA the minimum `wanted_min` (none when it has it)."""
    if wanted_min < 1:
        raise ValueError(f"an HPA minimum of {wanted_min} would let the application scale to nothing; expected 1 or more")
    patches = []
    for hpa in sorted(hpas, key=lambda h: h.name):
        if not hpa.name.startswith(APP_HPA_PREFIX) or hpa.min_replicas == wanted_min:
            continue
        spec: dict[str, Any] = {"minReplicas": wanted_min}
        if hpa.max_replicas < wanted_min:
            spec["maxReplicas"] = wanted_min
        patches.append(HpaPatch(hpa.name, {"spec": spec}))
    return patches


def recorded_minimum(item: dict[str, Any] | None) -> int | None:
    """The HPA minimum the state table asks for (`hpa_min_replicas`); None when nothing is
    recorded; ValueError for a value no HPA can take."""
    if item is None:
        return None
    value = item.get("hpa_min_replicas")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"hpa_min_replicas {value!r} is not a whole number of replicas of at least 1")
    return value


def reconciler_policy(account: str, region: str, table: str) -> str:
    """The in-cluster reconciler's IAM policy: read items of the state table in its region."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadTheRecordedCapacity", "Effect": "Allow", "Action": "dynamodb:GetItem",
         "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{table}"}]})


def reconciler_rules(colours: Iterable[str]) -> list[dict[str, Any]]:
    """Its RBAC Role: get and patch the app's HPAs, by name, and nothing else (no list, no
    other kind, no other namespace: the Role lives in `hse`)."""
    return [{"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
             "resourceNames": sorted(hpa_name(c) for c in colours), "verbs": ["get", "patch"]}]
