"""The local drill: the failure scenarios on the local platform, under load, measured.

The operational code is the AWS path's: the controller (`infra.ops.failover.Controller`)
receives each health-check signal and decides (flap, hold-down, candidate by health and
lag, the steps), the failback (`infra.ops.failback.Failback`) holds its gates and its
traffic steps; both act through the local backend (`infra.local.backend`). The drill only
breaks things, delivers the signals, does what the runbooks give an operator to do
(re-attach a returned primary), and measures.

Scenarios, in this order (each starts where the previous one left the platform):
1. `secondary-lost`: the last secondary's instance and app stop hard, then return;
2. `primary-lost`: the primary's instance and app stop hard under load; the controller fails over;
3. `split-brain`: the old primary's instance comes back by itself while the new one takes
   writes; a client that still has its address tries to write (the fence must refuse every
   write); then it is rewound and re-attached as a standby (`pg_rewind`);
4. `failback`: refused before the primary has been healthy for 5 minutes (drill clock), then
   the gated, lossless switchover and the traffic back 10 -> 25 -> 50 -> 100 %;
5. `flapping`: the primary's health flaps (short outages, a stale alarm), then fails for real
   inside the hold-down: no failover;
6. `lagging-replica`: the first secondary stops receiving WAL, lags past the RPO; the primary
   is lost; the controller must promote the other one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TextIO

import psycopg

from infra.domain import rto as rto_model
from infra.local.backend import LocalBackend
from infra.local.load import Ledger, Load
from infra.local.measure import checksums, loss, rto, titles
from infra.local.platform import LocalPlatform
from infra.local.scenarios import SCENARIOS
from infra.local.servers import APP_LOGIN, DATABASE
from infra.ops.failback import STEPS, Failback, FailbackSettings
from infra.ops.failover import Controller, Settings
from infra.ops.signals import Signal
from infra.ops.timeline import Outcome


RTO_BUDGET, RPO_BUDGET = rto_model.SPEC_RTO_SECONDS, 60
SIGNAL_WAIT = 20.0
"""Real seconds the drill waits for a signal, a recovery or a catch-up before it calls a promise broken."""


@dataclass
class Check:
    what: str
    ok: bool


@dataclass
class Result:
    name: str
    title: str
    checks: list[Check] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    started: float = field(default_factory=time.time)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, what: str, ok: Any) -> bool:
        self.checks.append(Check(what, bool(ok)))
        return bool(ok)

    def event(self, what: str) -> float:
        now = time.time()
        self.events.append((now - self.started, what))
        return now


class LocalDrill:
    def __init__(self, local: LocalPlatform, out: Optional[TextIO] = None):
        self.local = local
        self.out = out
        self.backend = LocalBackend(local)
        self.ledger = Ledger()
        s = local.seconds
        self.settings = Settings(hold_down_seconds=s(900), rpo_seconds=s(RPO_BUDGET),
                                 detection_seconds=local.edge.health_check_interval
                                 * local.edge.health_check_failure_threshold,
                                 dns_ttl_seconds=local.edge.dns_ttl)
        self.failback_settings = FailbackSettings(healthy_for_seconds=s(300), step_hold_seconds=s(120),
                                                  poll_seconds=s(30), rpo_seconds=s(RPO_BUDGET))
        self.home = local.platform.original_primary.stack
        self.secondaries = [r.stack for r in local.platform.regions if r.stack != self.home]
        self.results: list[Result] = []
        self.lost: frozenset[str] = frozenset()
        """Acknowledged writes an unplanned failover lost (each reported by its scenario)."""

    # -- the operational code -------------------------------------------------------------
    def controller(self) -> Controller:
        return Controller(None, self.local.store, self.local.clock, self.settings, self.local.platform,
                          backend=self.backend)

    def failback(self) -> Failback:
        return Failback(None, self.local.store, self.local.clock, self.failback_settings, self.local.platform,
                        backend=self.backend)

    def deliver(self, result: Result, stack: str, state: str, timeout: float = SIGNAL_WAIT) -> Optional[Outcome]:
        """Hand every signal to the controller, as EventBridge does, until `stack`'s `state` one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            signal = self.local.monitor.next_signal(timeout=0.05)
            if signal is None:
                continue
            result.event(f"health check: {signal.stack} {signal.state}")
            outcome = self.controller().handle(signal)
            result.outcomes.append(outcome)
            result.event(f"controller: {outcome.operation} {outcome.action} - {outcome.detail}")
            if (signal.stack, signal.state) == (stack, state):
                return outcome
        result.event(f"no {state} signal of {stack} in {timeout:.0f} s")
        return None

    def load(self, label: str, seconds: float = 120) -> Load:
        return Load(self.local, self.ledger, seconds, label)

    # -- helpers ----------------------------------------------------------------------------
    def wait(self, what: Callable[[], bool], timeout: float = SIGNAL_WAIT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if what():
                    return True
            except psycopg.Error:
                pass
            time.sleep(0.05)
        return False

    def reaches(self, fault: float, writer: str, stacks: list[str]) -> bool:
        """Every one of `stacks`' users has had a write acknowledged by `writer` since `fault`."""
        return self.wait(lambda: all(any(a.acked and a.writer == writer and a.users_of == s and a.sent > fault
                                         for a in self.ledger.all()) for s in stacks))

    def caught_up(self, stack: str) -> bool:
        return self.wait(lambda: self.local.monitor.lag(stack) == 0.0)

    def measure_failover(self, result: Result, fault: float, writer: str, users: list[str], old_writer: str = "",
                         killed: Optional[float] = None) -> None:
        """RTO per region's users; RPO in rows and seconds. An unplanned failover (`killed`: when the old
        writer stopped) may lose what asynchronous streaming had not sent yet, within the RPO budget;
        with synchronous replication, or with no failover at all, nothing."""
        rtos = {s: rto(self.ledger, s, fault, writer, old_writer) for s in users}
        lost = loss(self.ledger, self.local.region(writer).node, killed or fault, self.lost)
        self.lost |= lost.missing
        result.measured.update({"rtoSeconds": rtos, "rpoRows": lost.rows, "rpoSeconds": round(lost.seconds, 3),
                                "duplicates": lost.duplicates})
        budget = self.local.seconds(RTO_BUDGET)
        for stack, seconds in rtos.items():
            result.check(f"RTO of {stack}'s users {_s(seconds)} (budget {budget:.1f} s on the drill clock)",
                         seconds is not None and seconds < budget)
        rpo = self.settings.rpo_seconds
        if killed is not None and not self.local.synchronous:
            result.check(f"RPO: {lost.rows} acknowledged writes lost ({lost.seconds:.3f} s of commits), within what "
                         f"asynchronous streaming allows and under the RPO budget of {rpo:.2f} s",
                         lost.seconds < rpo)
        else:
            result.check(f"RPO: {lost.rows} acknowledged writes missing on {writer} ({lost.seconds:.3f} s of commits)"
                         + ("; synchronous replication promises none" if killed is not None else ""), lost.rows == 0)
        result.check(f"no acknowledged write twice on {writer} ({lost.duplicates} duplicated)", lost.duplicates == 0)

    def stale_writes(self, stack: str, attempts: int = 5) -> int:
        """Writes a client that still has `stack`'s instance address gets acknowledged there (split brain)."""
        node = self.local.region(stack).node
        tenant = next(iter(self.local.tenants.values()))
        taken = 0
        for i in range(attempts):
            try:
                with psycopg.connect(host="127.0.0.1", port=node.port, dbname=DATABASE, user=APP_LOGIN[0],
                                     password=APP_LOGIN[1], connect_timeout=2) as conn:
                    with conn.transaction():
                        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
                        conn.execute("INSERT INTO app.incidents (tenant_id, title, severity) VALUES (%s, %s, 3)",
                                     (tenant, f"stale-{stack}-{i}"))
                taken += 1
            except psycopg.Error:
                pass
        return taken

    # -- the scenarios ------------------------------------------------------------------------
    def secondary_lost(self, result: Result) -> None:
        victim = self.secondaries[-1]
        with self.load("secondary-lost"):
            time.sleep(0.5)
            fault = result.event(f"{victim}'s PostgreSQL and application stopped hard")
            self.local.lose(victim)
            outcome = self.deliver(result, victim, "ALARM")
            result.check(f"losing {victim} (a secondary) promotes nothing ({outcome and outcome.action})",
                         outcome is not None and outcome.action == "recorded" and self.local.writer == self.home)
            self.local.region(victim).node.start()
            self.local.start_app(victim)
            result.event(f"{victim}'s PostgreSQL and application started again")
            back = self.deliver(result, victim, "OK")
            result.check(f"{victim} healthy again", back is not None)
            result.check(f"{victim} streams from {self.home} again and has caught up",
                         self.caught_up(victim) and self.backend.database.is_member(
                             self.local.platform.region(victim), self.local.platform.region(self.home)))
            result.check(f"{victim}'s users reach {self.home} through a healthy region",
                         self.reaches(fault, self.home, self.local.stacks))
        self.measure_failover(result, fault, self.home, self.local.stacks)

    def primary_lost(self, result: Result) -> None:
        with self.load("primary-lost"):
            time.sleep(0.5)
            fault = result.event(f"{self.home}'s PostgreSQL and application stopped hard (under load)")
            self.local.lose(self.home)
            killed = time.time()
            outcome = self.deliver(result, self.home, "ALARM")
            result.check(f"the controller failed {self.home} over ({outcome and outcome.action} to "
                         f"{outcome and outcome.target})", outcome is not None and outcome.action == "failed-over")
            if outcome is None or outcome.action != "failed-over":
                return
            target = outcome.target
            promoted = result.event(f"{target} promoted; pools and standbys repointed")
            result.check(f"{target} is the writer", self.local.writer == target)
            result.check(f"{self.home}'s instance is fenced (pg_hba rejects every TCP connection)",
                         self.local.region(self.home).node.fenced())
            reached = self.reaches(fault, target, self.local.stacks)
            result.check(f"every region's users write through {target} again", reached)
            others = [s for s in self.secondaries if s != target]
            result.check(f"{', '.join(others) or 'no other standby'} stream from {target}",
                         all(self.wait(lambda o=o: self.backend.database.is_member(
                             self.local.platform.region(o), self.local.platform.region(target))) for o in others))
            time.sleep(0.5)
        self.measure_failover(result, fault, target, self.local.stacks, self.home, killed)
        signal_at = next(t for t, e in result.events if e.startswith(f"health check: {self.home} ALARM"))
        result.measured.update(self._attribution(outcome, fault, result.started + signal_at, promoted))
        result.measured["target"] = target
        result.check(f"the controller's own share of the RTO {result.measured['controllerSeconds']:.2f} s (goal 5 s)",
                     result.measured["controllerSeconds"] < 5)

    def _attribution(self, outcome: Outcome, fault: float, signal_at: float, promoted: float) -> dict[str, Any]:
        timing = self.backend.database.timings[-1] if self.backend.database.timings else None
        steps = {s.name: s for s in outcome.steps}
        reconnect = max((v for v in (rto(self.ledger, s, fault, outcome.target, self.home) for s in self.local.stacks)
                         if v is not None), default=0.0) - (promoted - fault)
        return {"controllerSeconds": round(outcome.wall_ms / 1000, 3),
                "detectionSeconds": round(signal_at - fault, 3),
                "promotionParts": {n: round(sec, 3) for n, sec in (timing.parts if timing else [])},
                "reconnectSeconds": round(max(0.0, reconnect), 3),
                "steps": [{"name": s.name, "modeledSeconds": s.modeled_seconds, "measuredSeconds": s.wall_ms / 1000,
                           "critical": s.critical} for s in outcome.steps],
                "modeledRtoSeconds": outcome.rto_seconds,
                "promoteModeledSeconds": steps["promote"].modeled_seconds if "promote" in steps else None}

    def split_brain(self, result: Result) -> None:
        writer = self.local.writer
        with self.load("split-brain"):
            time.sleep(0.3)
            since = time.time()
            self.local.region(self.home).node.start()
            result.event(f"{self.home}'s old primary started again by itself while {writer} takes writes")
            taken = self.stale_writes(self.home)
            result.check(f"the old primary took {taken} of 5 writes from a client that still had its address "
                         "(fenced: none)", taken == 0)
            rows = self.local.region(self.home).node.query(
                "SELECT count(*) FROM app.incidents WHERE created_at >= to_timestamp(%s)", (since,))[0][0]
            result.check(f"no row committed on the old primary since it came back ({rows})", rows == 0)
            result.event(f"operator: rewind {self.home} and re-attach it (docs/runbooks/failback.md)")
            platform = self.local.platform
            detail = self.backend.database.rejoin(platform.region(self.home), platform.region(writer))
            result.event(detail)
            # It ran as a primary after the fork (crash recovery at least): there is always something to undo.
            result.check(f"{self.home}'s divergence was undone ({detail.split('(', 1)[-1].rstrip(')')})",
                         "no rewind required" not in detail and "no verdict" not in detail)
            result.check(f"{self.home} streams from {writer} and has caught up",
                         self.wait(lambda: self.backend.database.is_member(platform.region(self.home),
                                                                           platform.region(writer)))
                         and self.caught_up(self.home))
            self.local.start_app(self.home)
            result.check(f"{self.home} healthy again", self.deliver(result, self.home, "OK") is not None)
        lost = loss(self.ledger, self.local.region(writer).node, since, self.lost)
        result.measured.update({"rpoRows": lost.rows, "splitBrainWrites": taken, "duplicates": lost.duplicates})
        result.check(f"every acknowledged write is on {writer} ({lost.rows} missing)", lost.rows == 0)

    def failback_scenario(self, result: Result) -> None:
        interim = self.local.writer
        refused: list[Outcome] = []
        with self.load("failback"):
            first = self.failback().run()
            result.outcomes.append(first)
            result.event(f"failback at once: {first.action} - {first.detail}")
            result.check(f"failback refused while {self.home} has been healthy for less than "
                         f"{self.failback_settings.healthy_for_seconds:.1f} s (exit {first.code})",
                         first.code == 3)
            deadline = time.monotonic() + self.failback_settings.healthy_for_seconds \
                + 10 * self.failback_settings.poll_seconds + 2
            done = first
            while done.code == 3 and time.monotonic() < deadline:
                refused.append(done)
                time.sleep(self.failback_settings.poll_seconds)
                done = self.failback().run()
            result.outcomes.append(done)
            result.event(f"failback: {done.action} - {done.detail}")
            result.check(f"failback ran to its end: {done.action} (exit {done.code})", done.action == "failed-back")
            time.sleep(0.5)
            fault = min((a.sent for a in self.ledger.all() if a.sent > result.started and not a.acked),
                        default=time.time())
        writer_node = self.local.region(self.local.writer).node
        lost = loss(self.ledger, writer_node, fault, self.lost)
        result.measured.update({"rpoRows": lost.rows, "duplicates": lost.duplicates, "unknownRows": lost.unknown,
                                "rtoSeconds": {s: rto(self.ledger, s, result.started, self.home, interim)
                                               for s in self.local.stacks}})
        result.check(f"{self.home} is the writer again", self.local.writer == self.home)
        steps = [w for _, w in self.local.dns.steps(self.home)]
        result.check(f"traffic back in steps {steps[1:-1]} (expected {list(STEPS)})", steps[1:-1] == list(STEPS))
        held = self.local.dns.steps(self.home)
        holds = [round(b[0] - a[0], 2) for a, b in zip(held[1:-1], held[2:])]
        result.check(f"each step held at least {self.failback_settings.step_hold_seconds:.1f} s ({holds})",
                     len(holds) == len(STEPS) and min(holds) >= self.failback_settings.step_hold_seconds)
        platform = self.local.platform
        standbys = [s for s in self.local.stacks if s != self.home]
        result.check(f"replication re-established: {', '.join(standbys)} stream from {self.home}",
                     all(self.wait(lambda s=s: self.backend.database.is_member(platform.region(s),
                                                                               platform.region(self.home)))
                         for s in standbys))
        result.check(f"zero divergence: every acknowledged write on {self.local.writer} exactly once "
                     f"({lost.rows} missing, {lost.duplicates} twice, {lost.unknown} never sent; "
                     f"{len(self.lost)} lost earlier at an unplanned failover, reported there)",
                     lost.rows == 0 and lost.duplicates == 0 and lost.unknown == 0)
        all_caught = all(self.caught_up(s) for s in standbys)
        sums = {s: checksums(self.local.region(s).node) for s in self.local.stacks} if all_caught else {}
        result.measured["checksumsEqual"] = bool(sums) and all(v == sums[self.local.writer] for v in sums.values())
        result.check(f"per-tenant checksums equal on every instance ({len(sums.get(self.local.writer, {}))} tenants)",
                     result.measured["checksumsEqual"])
        result.measured["refusedAttempts"] = len(refused)

    def flapping(self, result: Result) -> None:
        s = self.local.seconds
        interval = s(self.local.edge.health_check_interval)
        threshold = self.local.edge.health_check_failure_threshold
        with self.load("flapping"):
            monitor = self.local.monitor
            for n in range(3):
                # Down for exactly one check fewer than the alarm needs, then up until a check passes.
                self.local.stop_app(self.home)
                self.wait(lambda: monitor.failing(self.home) >= threshold - 1)
                self.local.start_app(self.home)
                self.wait(lambda: monitor.failing(self.home) == 0)
            result.event(f"{self.home}'s application flapped three times, each time {threshold - 1} failed checks")
            stray = self.local.monitor.next_signal(timeout=interval)
            result.check(f"no alarm from short flaps ({stray.state if stray else 'none'})", stray is None)
            stale = self.controller().handle(Signal(self.home, "region", "ALARM", "stale-alarm"))
            result.outcomes.append(stale)
            result.event(f"a stale alarm delivered after the flap cleared: {stale.action}")
            result.check(f"an alarm that cleared before the controller acted changes nothing ({stale.action})",
                         stale.action == "noop" and self.local.writer == self.home)
            self.local.stop_app(self.home)
            result.event(f"{self.home}'s application down for real, inside the hold-down")
            outcome = self.deliver(result, self.home, "ALARM")
            result.check(f"a failure inside the {self.settings.hold_down_seconds:.0f} s hold-down is suppressed, "
                         f"operators are told ({outcome and outcome.action})",
                         outcome is not None and outcome.action == "suppressed" and self.local.writer == self.home)
            self.local.start_app(self.home)
            result.check(f"{self.home} healthy again", self.deliver(result, self.home, "OK") is not None)
        lost = loss(self.ledger, self.local.region(self.home).node, result.started, self.lost)
        result.measured.update({"rpoRows": lost.rows, "duplicates": lost.duplicates})
        result.check(f"the writer never moved and no acknowledged write is missing ({lost.rows})",
                     lost.rows == 0 and self.local.writer == self.home)

    def lagging_replica(self, result: Result) -> None:
        lagging = self.secondaries[0]
        budget = self.settings.rpo_seconds
        if not result.check(f"the platform is in normal operation ({self.home} writes)", self.local.writer == self.home):
            return
        self.local.region(lagging).node.disconnect()
        result.event(f"{lagging} stops receiving WAL")
        with self.load("lagging-replica"):
            state = self.local.store.state(self.local.platform)
            free = state.since + self.settings.hold_down_seconds - time.time()
            lag_ok = self.wait(lambda: (self.local.monitor.lag(lagging) or 0) > budget * 1.5,
                               timeout=budget * 2 + SIGNAL_WAIT)
            if free > 0:
                time.sleep(free + 0.1)
            result.check(f"{lagging} lags {_s(self.local.monitor.lag(lagging))}, past the RPO budget "
                         f"{budget:.2f} s", lag_ok)
            fault = result.event(f"{self.home} lost while {lagging} lags")
            self.local.lose(self.home)
            killed = time.time()
            outcome = self.deliver(result, self.home, "ALARM")
            target = outcome.target if outcome else ""
            result.check(f"the controller promoted {target or 'nothing'}, not the lagging {lagging}",
                         outcome is not None and outcome.action == "failed-over" and target != lagging)
            if outcome is None or outcome.action != "failed-over":
                return
            self.reaches(fault, target, [s for s in self.local.stacks if s != self.home])
            time.sleep(0.3)
        self.measure_failover(result, fault, target, self.local.stacks, self.home, killed)
        result.measured["target"] = target

    RUNS = {"secondary-lost": ("a secondary region lost under load", "secondary_lost"),
            "primary-lost": ("the primary region lost under load", "primary_lost"),
            "split-brain": ("the old primary comes back while the promoted one takes writes", "split_brain"),
            "failback": ("failback after 5 minutes healthy (drill clock), traffic 10/25/50/100 %",
                         "failback_scenario"),
            "flapping": ("a flapping primary", "flapping"),
            "lagging-replica": ("a replica lagging past the RPO when the primary is lost", "lagging_replica")}

    def run(self, scenarios: tuple[str, ...] = SCENARIOS) -> list[Result]:
        for name in scenarios:
            title, method = self.RUNS[name]
            result = Result(name, title)
            started = time.perf_counter()
            try:
                getattr(self, method)(result)
            except Exception as exc:  # noqa: BLE001 - a scenario that breaks is a failed promise, in one line
                result.check(f"the scenario ran to its end: {type(exc).__name__}: {str(exc).splitlines()[0]}", False)
            result.wall_seconds = time.perf_counter() - started
            result.measured["crossTenantRows"] = self.ledger.cross_tenant_rows
            result.check(f"no cross-tenant row returned to a reader ({self.ledger.cross_tenant_rows} of "
                         f"{self.ledger.reads} reads)", self.ledger.cross_tenant_rows == 0)
            self.results.append(result)
            if self.out is not None:
                print_result(result, self.out)
            if not self._can_go_on(name):
                break  # the scenarios after this one start from where it should have left the platform
        return self.results


    def _can_go_on(self, name: str) -> bool:
        platform = self.local.platform
        if name == "primary-lost":
            return self.local.writer != self.home
        if name == "split-brain":
            return self.backend.database.is_member(platform.region(self.home), platform.region(self.local.writer))
        if name == "failback":
            return self.local.writer == self.home
        return True


def _s(seconds: Optional[float]) -> str:
    return "never" if seconds is None else f"{seconds:.2f} s"


def print_result(result: Result, out: TextIO) -> None:
    w = out.write
    w(f"\n== local scenario {result.name}: {result.title}\n")
    for at, event in result.events:
        w(f"   {at:7.2f} s  {event}\n")
    for outcome in result.outcomes:
        if not outcome.steps:
            continue
        w(f"-- {outcome.operation}: {outcome.action} (exit {outcome.code})\n")
        w(f"   {'step':<12}{'modeled':>9}  {'measured':>10}  detail\n")
        for step in outcome.steps:
            w(f"   {step.name:<12}{step.modeled_seconds:>7.0f} s  {step.wall_ms:>7.1f} ms  {step.detail}\n")
    m = result.measured
    if "rtoSeconds" in m:
        w("   measured RTO per region's users: "
          + ", ".join(f"{s} {_s(v)}" for s, v in m["rtoSeconds"].items()) + "\n")
    if "rpoRows" in m:
        w(f"   measured RPO: {m['rpoRows']} acknowledged writes missing"
          + (f", {m['rpoSeconds']:.3f} s of commits" if "rpoSeconds" in m else "") + "\n")
    if "controllerSeconds" in m:
        w(f"   the controller's own share: {m['controllerSeconds']:.3f} s (signal to promoted and repointed; "
          f"detection {m['detectionSeconds']:.2f} s, reconnect {m['reconnectSeconds']:.2f} s; promotion "
          + ", ".join(f"{k} {v:.3f} s" for k, v in m["promotionParts"].items()) + ")\n")
    for check in result.checks:
        w(f"   {'ok  ' if check.ok else 'FAIL'} {check.what}\n")
    w(f"   scenario wall time {result.wall_seconds:.2f} s\n")
