"""The failover controller: from an alarm to a promoted, scaled-up, recorded region.

The spec's recovery procedure, end to end, for the loss of the primary region:

1. detect (the health-check alarm: 3 failed checks, 90 s, then the alarm's one-minute
   window and the EventBridge hop to the controller's region; or, when us-east-1 is lost,
   the controller's own watchdog: `infra.ops.watchdog`);
2. promote the best secondary's database (healthy, lowest replication lag, inside the
   residency zone of the failed region's bound tenants when one is healthy there);
3. update DNS: health checks already route around the region; the controller holds the
   failed region's users on the new primary until failback (`infra.ops.traffic`);
4. fail the Redis Global Datastore over, when there is one;
5. scale the promoted region up to the primary's capacity (`infra.ops.capacity`);
6. notify (the region's SNS topic, the `FailoverEvent` metric) and keep the timeline.

Safety: a second trigger while a failover runs finds the lock taken and does nothing; a
trigger after the failover finds the primary already moved and does nothing; an alarm
that cleared before the controller acts (a flap) changes nothing; a new failover within
the hold-down time of the last one is suppressed and escalated to operators instead of
ping-ponging the writer; `dry_run` computes and prints the plan without writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from infra.domain import rto, topology
from infra.ops.clock import Clock
from infra.ops.database import PROMOTION_SECONDS, DatabaseError
from infra.ops.operator import Operator
from infra.domain.platform import Platform, RegionRecord
from infra.ops.signals import Signal
from infra.ops.state import FAILED_OVER, FAILING_BACK, PlatformState, StateStore
from infra.ops.timeline import DONE, FAILED, Outcome, Recorder

RECONNECT_SECONDS = rto.RECONNECT_SECONDS
CACHE_FAILOVER_SECONDS = 60
WATCHDOG = "watchdog"
"""The source of a signal the controller's watchdog raises (`infra.ops.watchdog`)."""
SCALE_UP_SECONDS = 180


@dataclass(frozen=True)
class Settings:
    hold_down_seconds: int = 900
    """No second failover within this time of the last transition (anti-flapping)."""
    detection_seconds: int = 90
    dns_ttl_seconds: int = 60
    rpo_seconds: int = 60
    dry_run: bool = False
    alarm_seconds: int = rto.HEALTH_ALARM_PERIOD_SECONDS * rto.HEALTH_ALARM_EVALUATION_PERIODS
    """The health alarm's window (period x evaluation periods) after Route53's verdict."""
    forwarding_seconds: int = rto.FORWARDING_SECONDS
    """The alarm's event to the controller (EventBridge, us-east-1 -> the controller's region)."""
    watchdog_threshold: int = rto.WATCHDOG_THRESHOLD
    """Consecutive failed watchdog probes that fail a region over when us-east-1 is lost."""

    def model(self, promotion_seconds: int) -> rto.RtoModel:
        return rto.RtoModel(self.detection_seconds, self.dns_ttl_seconds, promotion_seconds, RECONNECT_SECONDS,
                            self.alarm_seconds, self.forwarding_seconds)

    def detection_path(self, signal: Signal) -> tuple[int, str]:
        """Seconds from the failure to the controller acting on `signal`, and how."""
        if signal.source == WATCHDOG:
            seconds = rto.WATCHDOG_PERIOD_SECONDS * self.watchdog_threshold
            return seconds, (f"{self.watchdog_threshold} failed watchdog probes, one every "
                             f"{rto.WATCHDOG_PERIOD_SECONDS} s (us-east-1's health alarms do not answer)")
        seconds = self.detection_seconds + self.alarm_seconds + self.forwarding_seconds
        first = (f"{self.detection_seconds} s of failed checks" if signal.component == "region"
                 else "an RDS failure event; modeled as the health checks' detection time")
        return seconds, (f"{first}, {self.alarm_seconds} s alarm window, {self.forwarding_seconds} s forwarding")


@dataclass(frozen=True)
class Candidate:
    region: RegionRecord
    lag_seconds: Optional[float]
    in_zone: bool


class Controller(Operator):
    def __init__(self, clients, store: StateStore, clock: Clock, settings: Settings = Settings(),
                 platform: Optional[Platform] = None, hpa_api=None, backend=None):
        super().__init__(clients, store, clock, platform, hpa_api, backend)
        self.settings = settings

    # -- deciding ---------------------------------------------------------------------
    def bound_zones(self, failed: RegionRecord) -> set[str]:
        """Residency zones of the tenants whose preferred region failed."""
        return {r["zone"] for r in self.platform.tenant_routes if r["stack"] == failed.stack and r.get("zone")}

    def residency_report(self, failed: RegionRecord) -> list[str]:
        lines = []
        for route in self.platform.tenant_routes:
            if route["stack"] != failed.stack:
                continue
            zone = route.get("zone") or "anywhere"
            if route.get("fallback"):
                lines.append(f"tenant {route['tenant']} ({zone}): served by {route['fallback']}")
            else:
                lines.append(f"tenant {route['tenant']} ({zone}): no other region in {zone}; "
                             f"unserved until {failed.stack} recovers, never served from outside {zone}")
        return lines

    def candidates(self, failed: RegionRecord) -> list[Candidate]:
        """Healthy secondaries, best first: inside a bound zone, then lowest lag, then deploy order."""
        zones = self.bound_zones(failed)
        writer = self.platform.region(self.store.state(self.platform).current_primary)
        found = []
        for region in self.platform.regions:
            if region.stack == failed.stack or not self.health.healthy(region):
                continue
            found.append(Candidate(region, self.health.replication_lag_seconds(region, writer),
                                   topology.region(region.aws_region).continent in zones))
        return sorted(found, key=lambda c: (not c.in_zone, c.lag_seconds is None, c.lag_seconds or 0.0,
                                            c.region.deploy_order))

    # -- acting -----------------------------------------------------------------------
    def handle(self, signal: Signal) -> Outcome:
        failed = self.platform.region(signal.stack)
        if signal.state == "OK":
            outcome = Outcome("health", "recorded", f"{failed.stack} {signal.component} recovered ({signal.source})")
            if not self.settings.dry_run and signal.component == "region":
                since = self.store.set_health(failed.stack, True)
                self.store.record_event("health", "recovered", f"{failed.stack} healthy since {since:.0f}")
            return outcome
        if signal.component == "region" and not signal.operator and self.health.healthy(failed):
            return self._note(Outcome("health", "noop", f"{failed.stack}: alarm {signal.source} already cleared "
                                                        "(a flap); nothing changed"))
        if signal.component == "region" and not self.settings.dry_run:
            self.store.set_health(failed.stack, False)
        state = self.store.state(self.platform)
        if signal.component == "cache":
            return self._cache_only(failed, signal, state)
        if state.mode == FAILING_BACK:
            return self._note(Outcome("failover", "noop", f"{failed.stack} {signal.component} failed during the "
                                                          "failback, which watches health and rolls itself back"))
        if state.mode == FAILED_OVER and state.failed_region == failed.stack:
            return self._note(Outcome("failover", "noop", f"{failed.stack} already failed over to "
                                                          f"{state.current_primary}; this trigger changes nothing"))
        if state.current_primary != failed.stack:
            return self._secondary_lost(failed, signal, state)
        return self._fail_over(failed, signal, state)

    def _note(self, outcome: Outcome) -> Outcome:
        if not self.settings.dry_run:
            self.store.record_event(outcome.operation, outcome.action, outcome.detail)
        return outcome

    def _secondary_lost(self, failed: RegionRecord, signal: Signal, state: PlatformState) -> Outcome:
        detail = (f"{failed.stack} {signal.component} failed; it is not the writer ({state.current_primary} is): "
                  "health checks route its users to the nearest healthy region")
        outcome = Outcome("failover", "recorded", detail)
        rec = Recorder(outcome, self.store, self.settings.dry_run)
        rec.note("detect", f"{signal.source}: {failed.stack} {signal.component} unhealthy",
                 self.settings.detection_path(signal)[0], critical=True)
        for line in self.residency_report(failed):
            rec.note("residency", line)
        if not self.settings.dry_run:
            primary = self.platform.region(state.current_primary)
            self.notifier.publish(primary, f"HSE: {failed.stack} unhealthy", {"event": detail,
                                                                              "residency": self.residency_report(failed)})
        return outcome

    def _cache_only(self, failed: RegionRecord, signal: Signal, state: PlatformState) -> Outcome:
        outcome = Outcome("failover", "recorded", f"{failed.stack} cache failed")
        rec = Recorder(outcome, self.store, self.settings.dry_run)
        target = next((c.region for c in self.candidates(failed)), None)
        if not failed.cache_global_datastore_id or target is None:
            rec.note("cache", f"{failed.stack}: no Global Datastore (or no healthy region): the region's "
                              "replication group fails over inside its region (Multi-AZ)")
        elif self.settings.dry_run:
            rec.note("cache", f"would fail {failed.cache_global_datastore_id} over to {target.stack}")
            outcome.action = "dry-run"
        else:
            with rec.step("cache", "", CACHE_FAILOVER_SECONDS, critical=True) as step:
                step.detail = self.cache.fail_over(target)
            self.notifier.metric(target, "cache", failed.stack, target.stack)
            self.notifier.publish(target, f"HSE: cache of {failed.stack} failed over", {"steps": step.detail})
            outcome.action, outcome.target = "failed-over", target.stack
        return outcome

    def _fail_over(self, failed: RegionRecord, signal: Signal, state: PlatformState) -> Outcome:
        s = self.settings
        outcome = Outcome("failover", "failed-over", "")
        now = self.clock.now()
        if state.since and now - state.since < s.hold_down_seconds:
            outcome.action, outcome.code = "suppressed", FAILED
            outcome.detail = (f"{failed.stack} failed {now - state.since:.0f} s after the last transition, inside "
                              f"the {s.hold_down_seconds} s hold-down: no automatic failover; operators decide "
                              f"(python -m infra.cli failover --stack {failed.stack} --force)")
            if not s.dry_run:
                self._note(outcome)
                self.notifier.publish(self._any_healthy(failed), "HSE: failover suppressed",
                                      {"detail": outcome.detail})
            return outcome
        token = None
        if not s.dry_run:
            token = self.store.acquire("failover")
            if token is None:
                holder = self.store.holder() or {}
                return self._note(Outcome("failover", "noop", f"{holder.get('operation', 'an operation')} is already "
                                                              "running; this trigger changes nothing"))
            state = self.store.state(self.platform)  # re-read under the lock
            if state.current_primary != failed.stack:
                self.store.release(token)
                return self._note(Outcome("failover", "noop", f"already failed over to {state.current_primary}"))
        try:
            return self._promote(failed, signal, state, outcome)
        finally:
            if token is not None:
                self.store.release(token)

    def _any_healthy(self, failed: RegionRecord) -> RegionRecord:
        return next((r for r in self.platform.regions if r.stack != failed.stack and self.health.healthy(r)),
                    self.platform.original_primary)

    def _promote(self, failed: RegionRecord, signal: Signal, state: PlatformState, outcome: Outcome) -> Outcome:
        s = self.settings
        rec = Recorder(outcome, self.store, s.dry_run)
        detect_seconds, how = s.detection_path(signal)
        rec.note("detect", f"{signal.source}: {failed.stack} {signal.component} failed ({how})",
                 detect_seconds, critical=True)
        candidates = self.candidates(failed)
        if not candidates:
            outcome.action, outcome.code = "noop", FAILED
            outcome.detail = f"no healthy region to promote; {failed.stack} stays the writer"
            rec.note("decide", outcome.detail)
            return outcome
        best = candidates[0]
        target = best.region
        lag = best.lag_seconds
        outcome.target, outcome.rpo_seconds = target.stack, lag
        ranking = ", ".join(f"{c.region.stack} (lag {'unknown' if c.lag_seconds is None else f'{c.lag_seconds:.1f} s'}"
                            f"{', in zone' if c.in_zone else ''})" for c in candidates)
        rec.note("decide", f"target {target.stack}; candidates {ranking}"
                           + ("" if lag is None or lag < s.rpo_seconds else
                              f"; lag {lag:.1f} s is not under the RPO of {s.rpo_seconds} s"))
        for line in self.residency_report(failed):
            rec.note("residency", line)
        promotion = PROMOTION_SECONDS[target.db_engine]
        if s.dry_run:
            outcome.action = "dry-run"
            for name, detail, modeled, critical in (
                    ("promote", f"would promote {target.db_cluster_id} ({target.db_engine})", promotion, True),
                    ("dns", f"would hold {failed.stack}'s users on {target.stack} (weighted set)", s.dns_ttl_seconds,
                     False),
                    ("cache", f"would fail the Global Datastore over to {target.stack}"
                     if target.cache_global_datastore_id else "no Global Datastore", 0, False),
                    ("scale", f"would scale {target.eks_node_group_name} to {self.platform.primary_capacity}",
                     SCALE_UP_SECONDS, False)):
                rec.note(name, detail, modeled, critical)
            outcome.detail = f"dry run: would fail {failed.stack} over to {target.stack}"
            return outcome

        with rec.step("promote", "", promotion, critical=True) as step:
            try:
                step.detail = self.database.promote(failed, target).detail
            except DatabaseError as exc:
                step.detail = f"failed: {exc}"
                raise
        # The new writer is recorded at once: readers of the state see it from here on.
        self.store.set_state(PlatformState(FAILED_OVER, target.stack, self.platform.original_primary.stack,
                                           self.clock.now(), failed.stack))
        with rec.step("dns", "", s.dns_ttl_seconds) as step:
            if signal.component == "region":
                try:
                    moved = self.traffic.hold(failed, target)
                except (ClientError, BotoCoreError) as exc:
                    # Route53's API (its control plane) answers from us-east-1; its health checks and
                    # DNS answers (the data plane) do not need it and route around the region anyway.
                    reason = exc.response["Error"].get("Code") if isinstance(exc, ClientError) else type(exc).__name__
                    step.detail = (f"health checks route around {failed.stack}; Route53's API did not answer "
                                   f"({reason}): {failed.stack}'s users are not held on {target.stack}, run "
                                   "`python -m infra.cli failover` again once it answers")
                else:
                    step.detail = (f"health checks route around {failed.stack}; {moved} geolocation records held "
                                   f"on {target.stack} until failback")
            else:
                step.detail = (f"{failed.stack}'s application stays in DNS while its health check passes; "
                               f"it writes through {target.stack}'s writer")
        with rec.step("cache", "", CACHE_FAILOVER_SECONDS if target.cache_global_datastore_id else 0) as step:
            step.detail = self.cache.fail_over(target)
        with rec.step("scale", "", SCALE_UP_SECONDS) as step:
            step.detail = self.capacity.scale_to(target, self.platform.primary_capacity,
                                                 f"promoted after {failed.stack} failed")
        rec.note("reconnect", "applications reconnect through the proxy to the new writer", RECONNECT_SECONDS,
                 critical=True)
        model = s.model(promotion)
        outcome.rto_seconds = model.watchdog_total_seconds if signal.source == WATCHDOG else model.total_seconds
        with rec.step("notify", "") as step:
            self.notifier.metric(target, "failover", failed.stack, target.stack)
            message = self.notifier.publish(target, f"HSE: failover {failed.stack} -> {target.stack}", {
                "failed": failed.stack, "writer": target.stack,
                "steps": [{"step": st.name, "detail": st.detail} for st in outcome.steps]})
            step.detail = f"SNS {target.alarm_topic_arn} (message {message}); metric FailoverEvent"
        outcome.detail = f"{failed.stack} failed over to {target.stack}"
        outcome.code = DONE
        return outcome
