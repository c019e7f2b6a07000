"""Rolling and blue-green deployment.

Rolling (the spec's order): `pulumi up` of us-east, a monitoring window (30 minutes by
default), eu-west, a window, ap-se, then a check that every region is healthy. The
gate between regions reads each deployed region's health-check alarm (us-east-1) and
every alarm of the region in ALARM; a failed gate halts the rollout, leaving the later
regions on the previous version. Deployment goes through the Pulumi Automation API
(`pulumi.automation`), which drives the Pulumi CLI; without the CLI the rollout stops
before touching anything and says what is missing.

Blue-green: a region's live name `live-<stack>.<domain>` is a weighted set with one
member per deployed colour (`hse:appColours`), each pointing at `<stack>-<colour>.<domain>`
(that colour's load balancer) with its own health check (`infra/tiers/workloads.py`).
The switch reads the set first and refuses a colour that has no member (not deployed) or
whose member's health check Route 53 does not call healthy (`GetHealthCheckStatus`, the
18 % rule in `infra/domain/route53_health.py`): no healthy target; otherwise it changes only the weights (100 to the new colour, 0 to the others), keeping
each member's health check, TTL and set identifier, watches the region's health for the
window and, on a failure, puts the weights back exactly as they were.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from infra.domain import route53_health
from infra.ops.clock import Clock
from infra.ops.health import HEALTH_METRIC_REGION, HealthReader
from infra.domain.platform import Platform, RegionRecord
from infra.ops.timeline import FAILED, Outcome, Recorder
from infra.ops.traffic import Traffic

SPEC_WINDOW_SECONDS = 1800
COLOURS = ("blue", "green")


class MissingTool(Exception):
    """Something the real deployment needs is not installed or not configured."""


class Deployer(Protocol):
    def preflight(self) -> None: ...
    def up(self, stack: str) -> tuple[bool, str]: ...
    def outputs(self, stack: str) -> dict: ...


class AutomationDeployer:
    """`pulumi up` of a stack of the project through the Automation API."""

    def __init__(self, project_dir: Path, on_output: Callable[[str], None] = print):
        self.project_dir = project_dir
        self.on_output = on_output

    def preflight(self) -> None:
        if shutil.which("pulumi") is None:
            raise MissingTool("the Pulumi CLI is not on PATH: the Automation API drives it. Install it "
                              "(https://www.pulumi.com/docs/install/), log in (`pulumi login`), and give AWS "
                              "credentials; `--dry-run` shows the steps without it")
        if importlib.util.find_spec("pulumi.automation") is None:
            raise MissingTool("the pulumi package lacks the Automation API; install requirements.txt")

    def _stack(self, stack: str):
        from pulumi import automation as auto

        return auto.select_stack(stack_name=stack, work_dir=str(self.project_dir))

    def up(self, stack: str) -> tuple[bool, str]:
        from pulumi.automation import errors

        try:
            result = self._stack(stack).up(on_output=self.on_output)
        except errors.CommandError as exc:
            return False, str(exc).strip().splitlines()[-1] if str(exc).strip() else "pulumi up failed"
        changes = ", ".join(f"{k} {v}" for k, v in sorted((result.summary.resource_changes or {}).items()))
        return result.summary.result == "succeeded", f"{result.summary.result}: {changes or 'no changes'}"

    def outputs(self, stack: str) -> dict:
        return {k: v.value for k, v in self._stack(stack).outputs().items()}


@dataclass(frozen=True)
class RolloutSettings:
    stacks: tuple[str, ...]
    """In deploy order (the primary first)."""
    window_seconds: int = SPEC_WINDOW_SECONDS
    poll_seconds: int = 60
    dry_run: bool = False


class Gate:
    """Is a region fit to go on? Its health-check alarm OK and none of its alarms firing."""

    def __init__(self, clients, clock: Clock):
        self.clients = clients
        self.health = HealthReader(clients, clock)

    def problems(self, region: RegionRecord) -> list[str]:
        found = []
        if not self.health.healthy(region):
            found.append(f"{region.stack}: health check {region.health_check_id} is failing")
        for where in sorted({region.aws_region, HEALTH_METRIC_REGION}):
            alarms = self.clients("cloudwatch", where).describe_alarms(
                AlarmNamePrefix=f"hse-{region.stack}-", StateValue="ALARM").get("MetricAlarms", [])
            found += [f"{region.stack}: alarm {a['AlarmName']} is firing" for a in alarms
                      if a["AlarmName"].startswith(f"hse-{region.stack}-")]
        return sorted(set(found))


@dataclass
class Rollout:
    deployer: Deployer
    settings: RolloutSettings
    clock: Clock
    gate_for: Callable[[], tuple[Gate, Callable[[str], RegionRecord]]]
    """The gate and a stack -> region lookup, built once stacks have outputs."""
    out: Callable[[str], None] = print
    outcome: Outcome = field(init=False)

    def run(self) -> Outcome:
        s = self.settings
        self.outcome = Outcome("deploy", "deployed", "")
        rec = Recorder(self.outcome, None, s.dry_run)
        if s.dry_run:
            for i, stack in enumerate(s.stacks):
                rec.note("deploy", f"pulumi up --stack {stack} (Automation API)")
                rec.note("gate", f"{stack}: health check and alarms")
                if i < len(s.stacks) - 1:
                    rec.note("monitor", f"{stack}: watch for {s.window_seconds} s, every {s.poll_seconds} s",
                             s.window_seconds)
            rec.note("verify", f"every region healthy: {', '.join(s.stacks)}")
            self.outcome.action, self.outcome.detail = "dry-run", f"dry run: {len(s.stacks)} stacks, nothing deployed"
            return self.outcome
        self.deployer.preflight()
        for i, stack in enumerate(s.stacks):
            self.out(f"deploying {stack}")
            with rec.step("deploy", f"pulumi up --stack {stack}") as step:
                ok, summary = self.deployer.up(stack)
                step.detail += f": {summary}"
            if not ok:
                return self._halt(f"pulumi up of {stack} failed ({summary})", s.stacks[i + 1:])
            gate, region_of = self.gate_for()
            last = i == len(s.stacks) - 1
            watched = s.stacks[: i + 1]
            window = 0 if last else s.window_seconds
            with rec.step("monitor" if window else "gate", f"{', '.join(watched)} for {window} s", window) as step:
                problems = self._watch(gate, [region_of(x) for x in watched], window)
                step.detail += f": {'; '.join(problems) or 'healthy'}"
            if problems:
                return self._halt("; ".join(problems), s.stacks[i + 1:])
        gate, region_of = self.gate_for()
        problems = [p for x in s.stacks for p in gate.problems(region_of(x))]
        rec.note("verify", "; ".join(problems) or f"every region healthy: {', '.join(s.stacks)}")
        if problems:
            return self._halt("; ".join(problems), ())
        self.outcome.detail = f"deployed {', '.join(s.stacks)}; every region healthy"
        return self.outcome

    def _watch(self, gate: Gate, regions: list[RegionRecord], window: int) -> list[str]:
        waited = 0
        while True:
            problems = [p for r in regions for p in gate.problems(r)]
            if problems or waited >= window:
                return problems
            self.clock.sleep(self.settings.poll_seconds)
            waited += self.settings.poll_seconds

    def _halt(self, why: str, untouched: tuple[str, ...]) -> Outcome:
        self.outcome.action, self.outcome.code = "halted", FAILED
        rest = f"; not deployed: {', '.join(untouched)}" if untouched else ""
        self.outcome.detail = f"halted: {why}{rest}"
        return self.outcome


def live_name(region: RegionRecord) -> str:
    return f"live-{region.stack}.{region.domain}"


def colour_host(region: RegionRecord, colour: str) -> str:
    return f"{region.stack}-{colour}.{region.domain}"


class BlueGreen:
    def __init__(self, clients, clock: Clock, window_seconds: int = 600, poll_seconds: int = 30):
        self.traffic = Traffic(clients)
        self.health = HealthReader(clients, clock)
        self.clock = clock
        self.window_seconds = window_seconds
        self.poll_seconds = poll_seconds

    def live(self, region: RegionRecord) -> str:
        """The colour taking the traffic ('' when the set does not exist yet)."""
        weights = self.traffic.weights(region.hosted_zone_id, live_name(region))
        return max(weights, key=weights.get) if weights and max(weights.values()) > 0 else ""

    def unhealthy(self, region: RegionRecord, colour: str) -> str:
        """Why `colour` has no healthy target ('' when its own health check passes). Its member
        of the live set carries the colour's health check; Route 53's verdict is read with
        `GetHealthCheckStatus` (a deployment-time read: the failover path never needs it)."""
        member = next(r for r in self.traffic.records(region.hosted_zone_id, live_name(region))
                      if r.get("SetIdentifier") == colour)
        check = member.get("HealthCheckId")
        if not check:
            return f"{region.stack}: {colour}'s member of {live_name(region)} has no health check; nothing says it serves"
        observations = self.traffic.route53.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"]
        if route53_health.healthy(o.get("StatusReport", {}).get("Status", "") for o in observations):
            return ""
        return (f"{region.stack}: {colour}'s health check {check} is failing (Route 53's checkers); "
                f"{colour} takes no traffic until it passes")

    def switch(self, region: RegionRecord, to: str, dry_run: bool = False) -> Outcome:
        outcome = Outcome("blue-green", "switched", "")
        rec = Recorder(outcome, None, dry_run)
        zone, name = region.hosted_zone_id, live_name(region)
        before = self.traffic.weights(zone, name)
        if to not in before:
            outcome.action, outcome.code = "refused", FAILED
            outcome.detail = (f"{region.stack}: {to} is not deployed ({name} has no {to} member; deployed: "
                              f"{', '.join(sorted(before)) or 'none'}); deploy it first (hse:appColours)")
            return outcome
        live = self.live(region)
        if live == to:
            outcome.action, outcome.detail = "noop", f"{to} already takes {region.stack}'s traffic"
            return outcome
        unhealthy = self.unhealthy(region, to)
        if unhealthy:
            outcome.action, outcome.code, outcome.detail = "refused", FAILED, unhealthy
            return outcome
        if dry_run:
            rec.note("switch", f"would send 100 % of {name} to {colour_host(region, to)}")
            rec.note("watch", f"would watch {region.stack}'s health for {self.window_seconds} s", self.window_seconds)
            outcome.action, outcome.detail = "dry-run", f"dry run: {live or 'none'} -> {to}"
            return outcome
        with rec.step("switch", f"{name}: {live or 'none'} -> {to}"):
            self.traffic.reweigh(zone, name, {colour: 100 if colour == to else 0 for colour in before},
                                 f"{region.stack}: {to} live")
        waited, healthy = 0, True
        with rec.step("watch", f"{region.stack} health for {self.window_seconds} s", self.window_seconds) as step:
            while waited <= self.window_seconds:
                healthy = self.health.healthy(region)
                if not healthy:
                    break
                self.clock.sleep(self.poll_seconds)
                waited += self.poll_seconds
            step.detail += ": healthy" if healthy else f": unhealthy after {waited} s"
        if healthy:
            outcome.detail = f"{region.stack}: {to} live"
            return outcome
        with rec.step("rollback", f"{name} back to {live or 'nothing'}"):
            self.traffic.reweigh(zone, name, before, f"{region.stack}: rollback to {live or 'nothing'}")
        outcome.action, outcome.code = "rolled-back", FAILED
        outcome.detail = f"{region.stack}: {to} failed its health check; {live or 'nothing'} live again"
        return outcome


def platform_gate(clients, clock: Clock, platform: Platform) -> tuple[Gate, Callable[[str], RegionRecord]]:
    return Gate(clients, clock), platform.region

