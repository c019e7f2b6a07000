"""Failback: the original primary takes its place back, without losing data.

Gates, checked before anything changes (exit 3, "not ready", when one fails):
- the platform is failed over (otherwise there is nothing to do, exit 0);
- the original primary has been healthy for at least 5 minutes (the spec);
- replication is re-established: its cluster is a member of the global cluster again
  (Aurora rebuilds the old primary as a secondary when its region returns after a
  managed failover; after a detach-and-promote it must be rebuilt, see the runbook);
- its replication lag is known and under the RPO budget (60 s: the spec's RPO is under a minute).

Then, under the platform lock: the planned `switchover_global_cluster` back (no data
loss), the Global Datastore back, the interim primary scaled back to its own size, and
the traffic shifted back through the weighted set 10 -> 25 -> 50 -> 100 %, each step
held while both regions stay healthy. A failure during the shift rolls the weights back
to 0 % and, when the original primary is the one that failed, fails the writer over to
the interim region again (the platform ends failed over, never half-way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from infra.ops.clock import Clock
from infra.ops.operator import Operator
from infra.domain.platform import Platform
from infra.ops.state import FAILED_OVER, FAILING_BACK, NORMAL, PlatformState, StateStore
from infra.ops.timeline import FAILED, NOT_READY, Outcome, Recorder

STEPS = (10, 25, 50, 100)
HEALTHY_FOR_SECONDS = 300
"""The spec: wait 5 minutes after the primary recovers."""
SWITCHOVER_SECONDS = 60


@dataclass(frozen=True)
class FailbackSettings:
    steps: tuple[int, ...] = STEPS
    healthy_for_seconds: int = HEALTHY_FOR_SECONDS
    step_hold_seconds: int = 120
    """How long each weight is held while health is watched."""
    poll_seconds: int = 30
    rpo_seconds: int = 60
    dry_run: bool = False


class Failback(Operator):
    def __init__(self, clients, store: StateStore, clock: Clock, settings: FailbackSettings = FailbackSettings(),
                 platform: Optional[Platform] = None, on_poll: Optional[Callable[[int], None]] = None,
                 hpa_api=None, backend=None):
        super().__init__(clients, store, clock, platform, hpa_api, backend)
        self.settings = settings
        self.on_poll = on_poll
        """Called at every health poll with the current weight (the drill injects failures here)."""

    def gates(self) -> tuple[Optional[Outcome], Optional[float]]:
        """(an outcome that stops the failback, or None; the lag of the original primary)."""
        s = self.settings
        state = self.store.state(self.platform)
        home = self.platform.original_primary
        if state.mode == NORMAL:
            return Outcome("failback", "noop", f"{home.stack} is the primary; nothing to fail back"), None
        interim = self.platform.region(state.current_primary)
        if not self.health.healthy(home):
            return self._not_ready(f"{home.stack} is unhealthy"), None
        health = self.store.health(home.stack)
        healthy_for = self.clock.now() - float(health["since"]) if health and health["healthy"] else 0.0
        if healthy_for < s.healthy_for_seconds:
            return self._not_ready(f"{home.stack} healthy for {healthy_for:.0f} s of the required "
                                   f"{s.healthy_for_seconds} s"), None
        missing = self.database.replication_missing(home, interim)
        if missing:
            return Outcome("failback", "not-ready", f"replication to {home.stack} is not re-established: "
                           f"{missing}", NOT_READY), None
        lag = self.health.replication_lag_seconds(home, interim)
        if lag is None:
            return self._not_ready(f"{home.stack}'s replication lag is unknown (no datapoint in 5 minutes)"), None
        if lag >= s.rpo_seconds:  # the spec's RPO is *under* a minute
            return self._not_ready(f"{home.stack}'s replication lag {lag:.1f} s is not under the RPO budget of "
                                   f"{s.rpo_seconds} s"), lag
        return None, lag

    def _not_ready(self, detail: str) -> Outcome:
        return Outcome("failback", "not-ready", f"not starting: {detail}", NOT_READY)

    def run(self) -> Outcome:
        stop, lag = self.gates()
        if stop is not None:
            if not self.settings.dry_run:
                self.store.record_event(stop.operation, stop.action, stop.detail)
            return stop
        state = self.store.state(self.platform)
        home, interim = self.platform.original_primary, self.platform.region(state.current_primary)
        outcome = Outcome("failback", "failed-back", "", target=home.stack, rpo_seconds=lag)
        rec = Recorder(outcome, self.store, self.settings.dry_run)
        if self.settings.dry_run:
            rec.note("switchover", f"would switch the writer over to {home.db_cluster_id} (lag {lag:.1f} s)",
                     SWITCHOVER_SECONDS)
            rec.note("shift", f"would shift {home.stack}'s users back: "
                              f"{' -> '.join(f'{p} %' for p in self.settings.steps)}")
            outcome.action, outcome.detail = "dry-run", f"dry run: would fail back to {home.stack}"
            return outcome
        token = self.store.acquire("failback")
        if token is None:
            return Outcome("failback", "noop", "another operation is running; try again when it ends")
        try:
            self.store.set_state(PlatformState(FAILING_BACK, interim.stack, home.stack, self.clock.now(), ""))
            rec.note("gates", f"{home.stack} healthy for at least {self.settings.healthy_for_seconds:g} s, "
                              f"replication from {interim.stack} re-established, lag {lag:.1f} s within the RPO "
                              f"of {self.settings.rpo_seconds:g} s")
            with rec.step("switchover", "", SWITCHOVER_SECONDS) as step:
                step.detail = self.database.switchover(home)
            self.store.set_state(PlatformState(FAILING_BACK, home.stack, home.stack, self.clock.now(), ""))
            with rec.step("cache", "") as step:
                step.detail = self.cache.fail_over(home)
            for percent in self.settings.steps:
                with rec.step("shift", f"{home.stack} {percent} %, {interim.stack} {100 - percent} %",
                              self.settings.step_hold_seconds):
                    self.traffic.shift(home, percent)
                failing = self._watch(home, interim, percent)
                if failing:
                    return self._roll_back(rec, outcome, home, interim, failing, percent)
            with rec.step("release", f"{home.stack}'s geolocation records point at {home.regional_endpoint} again"):
                self.traffic.release(home)
            with rec.step("scale", "") as step:
                step.detail = self.capacity.scale_to(interim, interim.app_instance_count,
                                                     f"failback to {home.stack}")
            self.store.set_state(PlatformState(NORMAL, home.stack, home.stack, self.clock.now(), ""))
            with rec.step("notify", f"SNS {home.alarm_topic_arn}; metric FailoverEvent (failback)"):
                self.notifier.metric(home, "failback", interim.stack, home.stack)
                self.notifier.publish(home, f"HSE: failback {interim.stack} -> {home.stack}",
                                      {"writer": home.stack, "steps": [s.detail for s in outcome.steps]})
            outcome.detail = f"{home.stack} is the primary again; normal operation resumed"
            return outcome
        finally:
            self.store.release(token)

    def _watch(self, home, interim, percent: int) -> Optional[str]:
        """Hold a weight while both regions stay healthy; the failing stack, or None."""
        held = 0
        while True:
            if self.on_poll is not None:
                self.on_poll(percent)
            for region in (home, interim):
                if not self.health.healthy(region):
                    return region.stack
            if held >= self.settings.step_hold_seconds:
                return None
            self.clock.sleep(self.settings.poll_seconds)
            held += self.settings.poll_seconds

    def _roll_back(self, rec: Recorder, outcome: Outcome, home, interim, failing: str, percent: int) -> Outcome:
        """Move the traffic away from whichever region failed, and the writer with it."""
        outcome.code = FAILED
        if failing == interim.stack:
            # The writer is already home: finishing the shift is the way away from the failure.
            with rec.step("rollforward", f"{interim.stack} unhealthy at {percent} %: all of {home.stack}'s users "
                                         f"back on {home.stack} now"):
                self.traffic.release(home)
            self.store.set_state(PlatformState(NORMAL, home.stack, home.stack, self.clock.now(), ""))
            outcome.action = "rolled-forward"
            outcome.detail = f"{interim.stack} failed during failback at {percent} %; {home.stack} serves and writes"
        else:
            with rec.step("rollback", f"{home.stack} unhealthy at {percent} %: {home.stack} back to 0 %"):
                self.traffic.shift(home, 0)
            with rec.step("promote", "", 60, critical=True) as step:
                step.detail = self.database.promote(home, interim).detail
            self.store.set_health(home.stack, False)
            self.store.set_state(PlatformState(FAILED_OVER, interim.stack, home.stack, self.clock.now(), home.stack))
            outcome.action = "rolled-back"
            outcome.detail = (f"failback rolled back at {percent} %: {home.stack} became unhealthy; "
                              f"{interim.stack} writes and serves again")
        self.notifier.publish(interim if failing == home.stack else home, f"HSE: failback of {home.stack} {outcome.action}",
                              {"failing": failing, "weight": percent, "detail": outcome.detail})
        return outcome
