"""The controller's watchdog: detection that survives the loss of us-east-1.

Route53 publishes health-check metrics only in us-east-1, so the health alarms and the
EventBridge rule that takes their state changes live there. When us-east-1 is lost (the
primary's own region) DNS still fails over (Route53's health checks and answers are its
global data plane), but no alarm reaches the controller. A schedule in the controller's
own region (`rate(1 minute)`, `components/failover_controller.py`) therefore invokes it
with a tick. On each tick:

- when every region's health alarm can be read in us-east-1, the alarms are in charge:
  nothing else happens (no probe, no write);
- otherwise each region's `/api/health` is probed from the controller's region
  (`infra.ops.health`), the consecutive failures are counted in the state store
  (`REGION#<stack>` / `PROBE`), and a region reaching `watchdog_threshold` (3) failures is
  handed to the controller as an ALARM (source `watchdog`), once; the first success after
  that hands it an OK (the failback's "healthy for 5 minutes" starts there).

Modeled: 3 ticks (180 s) then the promotion, in parallel with DNS (`infra/domain/rto.py`).
"""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from infra.domain.platform import Platform
from infra.domain.rto import WATCHDOG_EVENT
from infra.ops.clock import Clock
from infra.ops.failover import WATCHDOG, Controller, Settings
from infra.ops.signals import Signal
from infra.ops.state import StateStore
from infra.ops.timeline import Outcome


def is_tick(event: dict[str, Any]) -> bool:
    return event.get("source") == WATCHDOG_EVENT["source"] and event.get("detail-type") == WATCHDOG_EVENT["detail-type"]


class Watchdog:
    def __init__(self, clients, store: StateStore, clock: Clock, settings: Settings,
                 platform: Optional[Platform] = None, probe=None):
        self.controller = Controller(clients, store, clock, settings, platform)
        self.controller.health.probe = probe
        self.store = store
        self.threshold = settings.watchdog_threshold

    def alarms_answer(self) -> bool:
        try:
            for region in self.controller.platform.regions:
                self.controller.health.alarm_state(region)
        except (ClientError, BotoCoreError):
            return False
        return True

    def tick(self) -> Outcome:
        if self.alarms_answer():
            return Outcome("watchdog", "noop", "the health alarms in us-east-1 answer; they trigger the controller")
        seen, acted = [], []
        for region in self.controller.platform.regions:
            healthy = self.controller.health.probe_healthy(region)
            failures, before = self.store.probe_result(region.stack, healthy)
            seen.append(f"{region.stack} {'up' if healthy else f'down {failures}/{self.threshold}'}")
            if not healthy and failures == self.threshold:
                acted.append(self.controller.handle(Signal(region.stack, "region", "ALARM", WATCHDOG)))
            elif healthy and before >= self.threshold:
                acted.append(self.controller.handle(Signal(region.stack, "region", "OK", WATCHDOG)))
        detail = f"us-east-1's health alarms do not answer; probes: {', '.join(seen)}"
        changed = next((o for o in acted if o.action == "failed-over"), acted[0] if acted else None)
        if changed is None:
            return Outcome("watchdog", "recorded", detail)
        changed.detail = f"{detail}; {changed.detail}"
        return changed
