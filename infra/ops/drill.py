"""The DR drill: the offline game day.

Each scenario seeds a fresh AWS emulator with the topology the plans declare
(`infra.ops.seed`), breaks something, lets the controller act through the same entry
point as the Lambda (`infra.ops.entry`), checks the end state, and where it applies
runs the failback and checks that the original topology is back with nothing lost or
orphaned. Time is modeled (`ModelClock`): the 5-minute wait and the weight holds take
no real time, and each step carries its modeled AWS duration; the wall time printed is
the controller's own work, measured.

The emulator is moto in this process by default; `moto_server()` runs the same drill
over HTTP against a moto server on loopback started here; `endpoint_url` points it at
any other AWS-compatible endpoint (reset between scenarios when it is a moto server),
where nothing is stubbed and the calls moto lacks go out as they are.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, TextIO

from infra.ops.clients import Clients
from infra.ops.clock import ModelClock
from infra.ops.dns_model import ZoneModel
from infra.ops.emulation import Emulation
from infra.ops.entry import handle
from infra.ops.failback import Failback, FailbackSettings
from infra.ops.failover import Controller, Settings
from infra.ops.health import HEALTH_METRIC_REGION
from infra.ops.notify import METRIC_NAME, METRIC_NAMESPACE
from infra.domain.platform import RegionRecord
from infra.ops.plans import PlanView
from infra.ops.seed import Seeded, lag_datapoint, seed
from infra.ops.signals import Signal, alarm_event, rds_failure_event
from infra.ops.timeline import Outcome

SCENARIOS = ("region-loss", "database-only", "redis", "flapping", "failure-during-failback", "residency")
STATE_TABLE = "hse-drill-failover-state"
RTO_BUDGET, RPO_BUDGET = 300, 60


class DrillError(Exception):
    """The plans cannot run a scenario: a message, no traceback."""


RESIDENCY_TENANT = "acme=eu-west@EU"
"""What the drill adds to a copy of the primary's stack file when the plans bind no tenant."""


@dataclass
class Check:
    what: str
    ok: bool


@dataclass
class ScenarioResult:
    name: str
    title: str
    outcomes: list[Outcome] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    """The whole scenario, seeding included (real time)."""

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)


class Run:
    """One scenario's world: the seeded emulator, the clock and the helpers to break it."""

    def __init__(self, seeded: Seeded, clients: Clients, clock: ModelClock, emulation: Emulation,
                 result: ScenarioResult, modeled_rto: Optional[dict] = None):
        self.s = seeded
        self.platform = seeded.platform
        self.store = seeded.store
        self.clients = clients
        self.clock = clock
        self.emulation = emulation
        self.result = result
        modeled = modeled_rto or {}
        # Detection and TTL as the plan models them (`modeledRto`), the budgets as the spec sets them.
        self.settings = Settings(hold_down_seconds=900, rpo_seconds=RPO_BUDGET,
                                 detection_seconds=int(modeled.get("detectionSeconds", 90)),
                                 dns_ttl_seconds=int(modeled.get("dnsTtlSeconds", 60)),
                                 alarm_seconds=int(modeled.get("alarmSeconds", Settings.alarm_seconds)),
                                 forwarding_seconds=int(modeled.get("forwardingSeconds", Settings.forwarding_seconds)))

    # -- breaking and mending -----------------------------------------------------------
    def region(self, stack: str) -> RegionRecord:
        return self.platform.region(stack)

    def set_health(self, stack: str, healthy: bool) -> None:
        self.clients("cloudwatch", HEALTH_METRIC_REGION).set_alarm_state(
            AlarmName=self.s.alarms[stack], StateValue="OK" if healthy else "ALARM", StateReason="drill")

    def event(self, stack: str, healthy: bool) -> dict:
        return alarm_event(self.s.alarms[stack], "OK" if healthy else "ALARM", self.region(stack).health_check_id)

    def send(self, event: dict) -> Outcome:
        """Deliver an event to the controller through the Lambda's entry point."""
        result = handle(event, self.clients, self.store, self.clock, self.settings, self.platform)
        outcome = Outcome(result["operation"], result["action"], result["detail"], result["code"],
                          target=result.get("target", ""), rto_seconds=result.get("rtoSeconds"),
                          rpo_seconds=result.get("rpoSeconds"))
        from infra.ops.timeline import Step
        outcome.steps = [Step(s["step"], s["detail"], s["modeledSeconds"], s["criticalPath"], s["wallMs"])
                         for s in result.get("steps", [])]
        self.result.outcomes.append(outcome)
        return outcome

    def lose(self, stack: str) -> Outcome:
        self.set_health(stack, False)
        return self.send(self.event(stack, False))

    def recover(self, stack: str) -> Outcome:
        self.set_health(stack, True)
        return self.send(self.event(stack, True))

    def failback(self, on_poll: Optional[Callable[[int], None]] = None) -> Outcome:
        outcome = Failback(self.clients, self.store, self.clock, FailbackSettings(rpo_seconds=RPO_BUDGET),
                           self.platform, on_poll).run()
        self.result.outcomes.append(outcome)
        return outcome

    def lag(self, stack: str, milliseconds: float) -> None:
        """`stack`'s replication lag behind the current writer."""
        writer = self.region(self.store.state(self.platform).current_primary)
        lag_datapoint(self.clients, self.region(stack), milliseconds, self.clock.now(), writer.aws_region)

    # -- reading the end state ----------------------------------------------------------
    def writer(self) -> Optional[str]:
        flags = self.emulation.writer_flags(self.platform.original_primary.db_global_cluster_id)
        writers = [a for a, w in flags.items() if w]
        found = self.platform.by_cluster(writers[0]) if len(writers) == 1 else None
        return found.stack if found else None

    def healthy(self) -> set[str]:
        cloudwatch = self.clients("cloudwatch", HEALTH_METRIC_REGION)
        states = {a["AlarmName"]: a["StateValue"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
        return {stack for stack, alarm in self.s.alarms.items() if states.get(alarm) == "OK"}

    def zone(self) -> ZoneModel:
        zone_id = self.platform.original_primary.hosted_zone_id
        sets = self.clients("route53", "us-east-1").list_resource_record_sets(HostedZoneId=zone_id)
        return ZoneModel(sets["ResourceRecordSets"], self.platform, self.healthy())

    def app_answers(self) -> set[str]:
        return set().union(*self.zone().geo_answers(f"app.{self.platform.original_primary.domain}").values())

    def nodes(self, stack: str) -> int:
        region = self.region(stack)
        group = self.clients("eks", region.aws_region).describe_nodegroup(
            clusterName=region.eks_cluster_name, nodegroupName=region.eks_node_group_name)
        return int(group["nodegroup"]["scalingConfig"]["desiredSize"])

    def failover_events(self, stack: str) -> int:
        region = self.region(stack)
        points = self.clients("cloudwatch", region.aws_region).get_metric_statistics(
            Namespace=METRIC_NAMESPACE, MetricName=METRIC_NAME, Statistics=["Sum"], Period=86400,
            StartTime=self.clock.now() - 86400, EndTime=self.clock.now() + 86400,
            Dimensions=[{"Name": "Kind", "Value": "failover"}, {"Name": "FailedRegion", "Value": "us-east"},
                        {"Name": "TargetRegion", "Value": stack}]).get("Datapoints", [])
        return int(sum(p["Sum"] for p in points))

    def notifications(self, stack: str) -> list[dict]:
        sqs = self.clients("sqs", self.region(stack).aws_region)
        messages = sqs.receive_message(QueueUrl=self.s.queues[stack], MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def records_restored(self) -> bool:
        zone_id = self.platform.original_primary.hosted_zone_id
        sets = self.clients("route53", "us-east-1").list_resource_record_sets(HostedZoneId=zone_id)
        now = sorted(json.dumps(r, sort_keys=True) for r in sets["ResourceRecordSets"])
        return now == sorted(json.dumps(r, sort_keys=True) for r in self.s.records[zone_id])

    def check(self, what: str, ok: bool) -> None:
        self.result.checks.append(Check(what, bool(ok)))


# -- the scenarios ------------------------------------------------------------------------
def _fail_over_and_back(run: Run, home: str) -> None:
    outcome = run.lose(home)
    target = outcome.target
    run.check(f"the controller failed {home} over (action {outcome.action})", outcome.action == "failed-over")
    run.check(f"{target} is the writer (lowest lag among healthy secondaries)",
              run.writer() == target and target == "eu-west")
    run.check(f"DNS answers only from healthy regions: {sorted(run.app_answers())}",
              home not in run.app_answers() and run.app_answers())
    state = run.store.state(run.platform)
    run.check(f"state: {state.mode}, primary {state.current_primary}",
              (state.mode, state.current_primary) == ("failed-over", target))
    run.check("metric FailoverEvent recorded once", run.failover_events(target) == 1)
    capacity = run.store.capacity(target) or {}
    run.check(f"{target} scaled up: {run.nodes(target)} nodes, HPA minimum {capacity.get('hpa_min_replicas')}",
              run.nodes(target) == 5 and capacity.get("hpa_min_replicas") == 5)
    run.check("stakeholders notified on the promoted region's topic", len(run.notifications(target)) == 1)

    run.recover(home)
    run.clock.advance(299)
    run.lag(home, 400)
    early = run.failback()
    run.check(f"failback refused at 299 s of health (exit {early.code})", early.code == 3)
    run.clock.advance(1)
    run.lag(home, 400)
    done = run.failback()
    run.check(f"failback at 300 s of health: {done.action} (exit {done.code})", done.code == 0)
    run.check(f"{home} is the writer again", run.writer() == home)
    run.check("DNS records exactly as seeded (no weighted set left, geolocation restored)", run.records_restored())
    state = run.store.state(run.platform)
    run.check(f"state: {state.mode}, primary {state.current_primary}",
              (state.mode, state.current_primary) == ("normal", home))
    run.check(f"{target} back to its own size ({run.nodes(target)} nodes)", run.nodes(target) == 3)


def region_loss(run: Run) -> None:
    _fail_over_and_back(run, run.platform.original_primary.stack)


def database_only(run: Run) -> None:
    home = run.platform.original_primary
    outcome = run.send(rds_failure_event(home.db_cluster_id, home.aws_region))
    run.check(f"an RDS failure event promotes a secondary (action {outcome.action})", outcome.action == "failed-over")
    run.check("eu-west is the writer", run.writer() == "eu-west")
    north_america = run.zone().geo_answers(f"app.{home.domain}")["NA"]
    run.check(f"the region's users stay with its health check (North America -> {sorted(north_america)})",
              north_america == {home.stack})
    run.store.set_health(home.stack, True)
    run.clock.advance(300)
    run.lag(home.stack, 250)
    done = run.failback()
    run.check(f"failback after the database recovered: exit {done.code}", done.code == 0 and run.writer() == home.stack)
    run.check("DNS records exactly as seeded", run.records_restored())


def redis(run: Run) -> None:
    home = run.platform.original_primary
    outcome = Controller(run.clients, run.store, run.clock, run.settings, run.platform).handle(
        Signal(home.stack, "cache", "ALARM", "drill: cache unavailable"))
    run.result.outcomes.append(outcome)
    if home.cache_global_datastore_id:
        primary = run.emulation.datastores[home.cache_global_datastore_id].members
        roles = {r: role for r, (_, role) in primary.items()}
        run.check(f"the Global Datastore's primary moved: {roles}", roles.get("eu-west-1") == "PRIMARY"
                  and roles.get(home.aws_region) == "SECONDARY")
    else:
        run.check("no Global Datastore in the plan: caches left to their in-region failover",
                  outcome.action == "recorded" and "Multi-AZ" in outcome.steps[0].detail)
    run.check("the database writer did not move", run.writer() == home.stack)


def flapping(run: Run) -> None:
    home = run.platform.original_primary.stack
    run.set_health(home, False)
    event = run.event(home, False)
    run.set_health(home, True)   # the alarm clears before the controller reads it
    flap = run.send(event)
    run.check(f"an alarm that cleared before the controller acted changes nothing ({flap.action})",
              flap.action == "noop" and run.writer() == home)
    token = run.store.acquire("failover")
    run.set_health(home, False)
    busy = run.send(run.event(home, False))
    run.check(f"a trigger while a failover runs is harmless ({busy.action})",
              busy.action == "noop" and run.writer() == home)
    run.store.release(token)
    first = run.send(run.event(home, False))
    again = run.send(run.event(home, False))
    run.check(f"the failover runs once; a repeated trigger is a no-op ({first.action}, {again.action})",
              (first.action, again.action) == ("failed-over", "noop") and run.writer() == "eu-west")
    run.recover(home)
    run.clock.advance(899)
    second = run.lose("eu-west")
    run.check(f"eu-west failing 899 s later is suppressed by the 900 s hold-down ({second.action})",
              second.action == "suppressed" and run.writer() == "eu-west")
    run.recover("eu-west")
    run.check("one FailoverEvent, no ping-pong", run.failover_events("eu-west") == 1)
    run.clock.advance(1)
    run.lose("eu-west")
    run.check("at 900 s the hold-down has passed: eu-west fails over to a healthy region",
              run.writer() in ("us-east", "ap-se"))


def failure_during_failback(run: Run) -> None:
    home = run.platform.original_primary.stack
    run.lose(home)
    run.recover(home)
    run.clock.advance(300)
    run.lag(home, 300)

    def break_at(percent: int) -> None:
        if percent == 25 and home in run.healthy():
            run.set_health(home, False)
            # The alarm reaches the controller too: the running failback owns the reaction.
            run.check("the controller leaves a failing failback to roll itself back",
                      run.send(run.event(home, False)).action == "noop")

    outcome = run.failback(on_poll=break_at)
    run.check(f"failback rolled back when {home} failed at 25 % (exit {outcome.code}, {outcome.action})",
              outcome.code == 1 and outcome.action == "rolled-back")
    answers = run.app_answers()
    run.check(f"DNS answers only from healthy regions after the rollback: {sorted(answers)}",
              home not in answers and bool(answers))
    run.check("eu-west writes again", run.writer() == "eu-west")
    state = run.store.state(run.platform)
    run.check(f"state: {state.mode}, primary {state.current_primary}",
              (state.mode, state.current_primary) == ("failed-over", "eu-west"))


def residency(run: Run) -> None:
    bound = [r for r in run.platform.tenant_routes if r.get("zone")]
    for route in bound:
        run.result.notes.append(f"tenant {route['tenant']}: prefers {route['stack']}, data stays in {route['zone']}, "
                                f"fallback {route['fallback'] or 'none'}")
    zone_bound = next(r for r in bound if r["stack"] != run.platform.original_primary.stack)  # checked before
    stack = zone_bound["stack"]
    outcome = run.lose(stack)
    run.check(f"losing {stack} (a secondary) promotes nothing ({outcome.action})",
              outcome.action == "recorded" and run.writer() == run.platform.original_primary.stack)
    run.check("the timeline names the residency-bound tenant",
              any(zone_bound["tenant"] in s.detail for s in outcome.steps if s.name == "residency"))
    host = f"{zone_bound['tenant']}.{run.platform.original_primary.domain}"
    answers = run.zone().resolve(host)
    allowed = {r.stack for r in run.platform.regions
               if r.stack == zone_bound["fallback"]} if zone_bound["fallback"] else set()
    run.check(f"{host} answers only inside {zone_bound['zone']}: {sorted(answers) or 'nothing (unserved)'}",
              answers <= allowed)


def binds_a_tenant(views: list[PlanView]) -> bool:
    """Whether the plans bind a tenant to the zone of a secondary (what the residency scenario loses)."""
    primary = next(v for v in views if v.outputs["role"] == "primary")
    return any(r.get("zone") and r["stack"] != primary.stack for r in primary.outputs.get("tenantRoutes") or [])


SCENARIO_RUNS: dict[str, tuple[str, Callable[[Run], None]]] = {
    "region-loss": ("loss of the primary region, then failback", region_loss),
    "database-only": ("the primary's database fails, the region stays up", database_only),
    "redis": ("the primary's Redis fails", redis),
    "flapping": ("a flapping region: flap, duplicate trigger, hold-down", flapping),
    "failure-during-failback": ("the original primary fails again during failback", failure_during_failback),
    "residency": ("a residency-bound tenant's region is lost", residency),
}


@contextlib.contextmanager
def _emulator(endpoint_url: Optional[str]) -> Iterator[None]:
    if endpoint_url:
        with contextlib.suppress(OSError):  # a moto server: start from nothing
            urllib.request.urlopen(urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST"), timeout=5)
        yield
        return
    import os

    from moto import mock_aws

    # The node groups need no AMI catalogue; loading it would triple the time of a scenario.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield


def run_scenario(name: str, views: list[PlanView], instance_counts: dict[str, int],
                 endpoint_url: Optional[str] = None, emulate: bool = True) -> ScenarioResult:
    """One scenario on a fresh emulator. `emulate`: answer what moto lacks (only where moto
    runs in this process: `mock_aws`, or a moto server this process started)."""
    title, body = SCENARIO_RUNS[name]
    primary = next(v for v in views if v.outputs["role"] == "primary")
    if name == "residency" and not binds_a_tenant(views):
        raise DrillError("the residency scenario needs a tenant bound to a secondary's zone in "
                         "hse:edgeTenantRouting (e.g. acme=eu-west@EU)")
    result = ScenarioResult(name, title)
    started = time.perf_counter()
    with _emulator(endpoint_url):
        from moto.core import DEFAULT_ACCOUNT_ID

        emulation = Emulation(DEFAULT_ACCOUNT_ID)
        clients = Clients(endpoint_url=endpoint_url, on_client=emulation.attach if emulate else None)
        clock = ModelClock()
        state_region = next(v.outputs["awsRegion"] for v in views if v.outputs["role"] != "primary")
        seeded = seed(clients, views, instance_counts, state_region, STATE_TABLE, clock, emulation)
        try:
            body(Run(seeded, clients, clock, emulation, result, primary.outputs.get("modeledRto")))
        except DrillError:
            raise
        except Exception as exc:  # noqa: BLE001 - a scenario that breaks is a failed check, reported in a line
            result.checks.append(Check(f"the scenario ran to its end: {type(exc).__name__}: {exc}", False))
        result.stubbed = sorted(set(emulation.calls))
    result.wall_seconds = time.perf_counter() - started
    return result


def print_result(result: ScenarioResult, out: TextIO) -> None:
    w = out.write
    w(f"\n== scenario {result.name}: {result.title}\n")
    for note in result.notes:
        w(f"   {note}\n")
    for outcome in result.outcomes:
        w(f"-- {outcome.operation}: {outcome.action} (exit {outcome.code}) {outcome.detail}\n")
        if outcome.steps:
            w(f"   {'step':<12}{'modeled':>9}  {'RTO path':<9}{'measured':>11}  detail\n")
        for step in outcome.steps:
            w(f"   {step.name:<12}{step.modeled_seconds:>7.0f} s  {'yes' if step.critical else '':<9}"
              f"{step.wall_ms:>8.1f} ms  {step.detail}\n")
        if outcome.rto_seconds is not None:
            w(f"   modeled RTO {outcome.rto_seconds:.0f} s of {RTO_BUDGET} s: "
              f"{'within' if outcome.rto_seconds < RTO_BUDGET else 'OVER'} budget\n")
        if outcome.rpo_seconds is not None:
            w(f"   RPO (replication lag of the promoted or returning region) {outcome.rpo_seconds:.2f} s of "
              f"{RPO_BUDGET} s: {'within' if outcome.rpo_seconds < RPO_BUDGET else 'OVER'} budget\n")
        if outcome.steps:
            w(f"   controller's own work: {outcome.wall_ms:.1f} ms measured\n")
    if result.stubbed:
        w(f"   stubbed at the boto3 boundary (moto lacks them): {', '.join(result.stubbed)}\n")
    for check in result.checks:
        w(f"   {'ok  ' if check.ok else 'FAIL'} {check.what}\n")
    w(f"   scenario wall time {result.wall_seconds:.2f} s (seeding the emulator included)\n")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on loopback in this process (its URL): the drill over HTTP, stubs still possible."""
    import os
    import socket

    from moto.server import ThreadedMotoServer

    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def run_drill(views: list[PlanView], instance_counts: dict[str, int], scenarios: tuple[str, ...] = SCENARIOS,
              endpoint_url: Optional[str] = None, emulate: bool = True,
              out: Optional[TextIO] = None) -> list[ScenarioResult]:
    results = []
    for name in scenarios:
        result = run_scenario(name, views, instance_counts, endpoint_url, emulate)
        if out is not None:
            print_result(result, out)
        results.append(result)
    return results
