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

from dataclasses import dataclass
from typing import Any, Iterable

NAMESPACE = "hse"
APP_HPA_PREFIX = "hse-app-"


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
