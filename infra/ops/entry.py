"""The controller's entry point for an event (the Lambda's handler calls this)."""

from __future__ import annotations

from typing import Any, Optional

from infra.ops.clock import Clock, iso
from infra.ops.failover import Controller, Settings
from infra.domain.platform import Platform
from infra.ops.signals import SignalError, parse
from infra.ops.state import StateStore
from infra.ops.timeline import Outcome
from infra.ops.watchdog import Watchdog, is_tick


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {"operation": outcome.operation, "action": outcome.action, "detail": outcome.detail, "code": outcome.code,
            "target": outcome.target, "rtoSeconds": outcome.rto_seconds, "rpoSeconds": outcome.rpo_seconds,
            "wallMs": round(outcome.wall_ms, 3),
            "steps": [{"step": s.name, "detail": s.detail, "modeledSeconds": s.modeled_seconds,
                       "criticalPath": s.critical, "wallMs": round(s.wall_ms, 3)} for s in outcome.steps]}


def handle(event: dict[str, Any], clients, store: StateStore, clock: Clock, settings: Settings,
           platform: Optional[Platform] = None) -> dict[str, Any]:
    """Parse the event, run the controller (or, on a schedule tick, its watchdog), return what
    happened (never raises for a foreign event)."""
    platform = platform or store.platform()
    if is_tick(event):
        return outcome_json(Watchdog(clients, store, clock, settings, platform).tick())
    try:
        signal = parse(event, platform)
    except SignalError as exc:
        return {"operation": "failover", "action": "ignored", "detail": str(exc), "code": 0, "at": iso(clock.now())}
    return outcome_json(Controller(clients, store, clock, settings, platform).handle(signal))
