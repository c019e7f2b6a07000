"""The DR drill timeline's input: a typed list of steps, each with the modeled and the
measured duration, read from a JSON file (`--drill FILE`) or, without one, made from
the modeled RTO a stack exports (`modeledRto`), so the chart is never empty.

The file's format (every duration in seconds, `measuredSeconds` may be null for a step
the drill did not time):

    {
      "title": "game day 2025-03-14, us-east down",       (optional)
      "rtoBudgetSeconds": 300,                            (optional; the spec's 5 minutes)
      "steps": [
        {"name": "detection", "modeledSeconds": 90, "measuredSeconds": 84.5},
        {"name": "database promotion", "modeledSeconds": 60, "measuredSeconds": 71},
        {"name": "reconnect", "modeledSeconds": 30, "measuredSeconds": 22}
      ]
    }

Steps run one after the other; the timeline places each after the previous one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from infra.domain.jsonfile import JsonFileError, read_json
from infra.domain.rto import SPEC_RTO_SECONDS


class DrillFileError(Exception):
    """An unreadable or malformed drill file: a one-line message naming it."""


@dataclass(frozen=True)
class DrillStep:
    name: str
    modeled_seconds: float
    measured_seconds: Optional[float] = None


@dataclass(frozen=True)
class DrillTimeline:
    steps: tuple[DrillStep, ...]
    title: str
    source: str
    """Where the steps came from: the file's path, or the stack whose model they are."""
    budget_seconds: float = SPEC_RTO_SECONDS

    @property
    def modeled_total(self) -> float:
        return sum(s.modeled_seconds for s in self.steps)

    @property
    def measured_total(self) -> Optional[float]:
        measured = [s.measured_seconds for s in self.steps]
        return None if any(m is None for m in measured) else sum(measured)  # type: ignore[arg-type]

    @property
    def measured(self) -> bool:
        return any(s.measured_seconds is not None for s in self.steps)


def _seconds(value: Any, where: str, allow_none: bool) -> Optional[float]:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be a number of seconds, 0 or more (got {json.dumps(value)})")
    return float(value)


def parse(data: Any, source: str) -> DrillTimeline:
    """A timeline from the file's JSON; ValueError naming the first bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ValueError("expected an object with a non-empty \"steps\" list")
    steps = []
    for i, step in enumerate(data["steps"]):
        if not isinstance(step, dict):
            raise ValueError(f"steps[{i}] must be an object")
        unknown = set(step) - {"name", "modeledSeconds", "measuredSeconds"}
        if unknown:
            raise ValueError(f"steps[{i}] has unknown field(s) {', '.join(sorted(unknown))}")
        name = step.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"steps[{i}].name must be a non-empty string")
        steps.append(DrillStep(name.strip(), _seconds(step.get("modeledSeconds"), f"steps[{i}].modeledSeconds", False),
                               _seconds(step.get("measuredSeconds"), f"steps[{i}].measuredSeconds", True)))
    budget = _seconds(data.get("rtoBudgetSeconds", SPEC_RTO_SECONDS), "rtoBudgetSeconds", False)
    if not budget:
        raise ValueError("rtoBudgetSeconds must be more than 0")
    title = data.get("title", "DR drill")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    return DrillTimeline(tuple(steps), title, source, budget)


def load(path: Path) -> DrillTimeline:
    """The timeline in a drill file; DrillFileError with a one-line reason."""
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise DrillFileError(f"--drill {path}: cannot read it ({exc.reason})" if exc.unreadable
                             else f"--drill {path}: not JSON ({exc.reason})") from None
    try:
        return parse(data, str(path))
    except ValueError as exc:
        raise DrillFileError(f"--drill {path}: {exc}") from None


def modeled(rto: dict, stack: str) -> DrillTimeline:
    """The modeled failover of `stack` (its `modeledRto` output) as a timeline without measurements:
    detection, then DNS TTL expiry in parallel with the controller's path (the alarm's window,
    the EventBridge forwarding and the database promotion; the longer counts), then reconnect."""
    controller = rto.get("alarmSeconds", 0) + rto.get("forwardingSeconds", 0) + rto["promotionSeconds"]
    parallel = max(rto["dnsTtlSeconds"], controller)
    which = "DNS TTL" if rto["dnsTtlSeconds"] >= controller else "alarm, forwarding and promotion"
    steps = (DrillStep(f"detection ({rto['detectionSeconds']} s of failed health checks)", rto["detectionSeconds"]),
             DrillStep(f"max(DNS TTL {rto['dnsTtlSeconds']} s, alarm {rto.get('alarmSeconds', 0)} s + forwarding "
                       f"{rto.get('forwardingSeconds', 0)} s + promotion {rto['promotionSeconds']} s): {which}",
                       parallel),
             DrillStep("reconnect through RDS Proxy", rto["reconnectSeconds"]))
    return DrillTimeline(steps, f"modeled failover of {stack} (no drill file given)", f"modeledRto of {stack}",
                         rto.get("specSeconds", SPEC_RTO_SECONDS))
