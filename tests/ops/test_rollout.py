"""Rolling and blue-green deployment: the Automation API and the health reads faked at
their boundaries (and the blue-green switch on moto's Route53)."""

from __future__ import annotations

import types
from dataclasses import dataclass, field

import pytest

from infra.ops import rollout
from infra.ops.clock import ModelClock
from infra.ops.rollout import AutomationDeployer, BlueGreen, MissingTool, Rollout, RolloutSettings, live_name
from infra.ops.traffic import Traffic

STACKS = ("us-east", "eu-west", "ap-se")


@dataclass
class FakeDeployer:
    fail: str = ""
    log: list = field(default_factory=list)

    def preflight(self) -> None:
        self.log.append("preflight")

    def up(self, stack: str):
        self.log.append(f"up {stack}")
        return (stack != self.fail), ("failed: 1 error" if stack == self.fail else "succeeded: update 3")


@dataclass
class FakeGate:
    """Health read at its boundary: `bad` maps (stack, clock time from which) -> problem."""
    clock: ModelClock
    bad: dict = field(default_factory=dict)
    reads: list = field(default_factory=list)

    def problems(self, region):
        self.reads.append((region, self.clock.now()))
        return [p for (stack, since), p in self.bad.items() if stack == region and self.clock.now() >= since]


def _rollout(deployer, gate, clock, **settings):
    return Rollout(deployer, RolloutSettings(STACKS, **{"window_seconds": 1800, "poll_seconds": 60, **settings}),
                   clock, gate_for=lambda: (gate, lambda stack: stack), out=lambda _: None)


def test_rolling_order_windows_and_final_check():
    clock = ModelClock(0)
    deployer, gate = FakeDeployer(), FakeGate(clock)
    outcome = _rollout(deployer, gate, clock).run()
    assert (outcome.action, outcome.code) == ("deployed", 0)
    assert deployer.log == ["preflight", "up us-east", "up eu-west", "up ap-se"]
    assert [s.name for s in outcome.steps] == ["deploy", "monitor", "deploy", "monitor", "deploy", "gate", "verify"]
    assert clock.now() == 3600  # two 30-minute windows, nothing after the last region
    # us-east is watched in both windows; eu-west only in its own.
    assert sum(1 for r, _ in gate.reads if r == "us-east") == 31 + 31 + 1 + 1


def test_a_failing_region_inside_the_window_halts_before_the_next():
    clock = ModelClock(0)
    deployer = FakeDeployer()
    gate = FakeGate(clock, {("us-east", 1740): "us-east: alarm hse-us-east-app-5xx is firing"})
    outcome = _rollout(deployer, gate, clock).run()
    assert (outcome.action, outcome.code) == ("halted", 1)
    assert outcome.detail == "halted: us-east: alarm hse-us-east-app-5xx is firing; not deployed: eu-west, ap-se"
    assert deployer.log == ["preflight", "up us-east"]


def test_a_failure_after_the_window_ends_is_not_this_windows():
    clock = ModelClock(0)
    gate = FakeGate(clock, {("us-east", 1801): "late"})
    outcome = _rollout(FakeDeployer(), gate, clock, window_seconds=1800).run()
    # The window ends at 1800 s; the problem at 1801 s is caught by eu-west's window (us-east is watched there too).
    assert outcome.action == "halted" and outcome.detail.endswith("not deployed: ap-se")


def test_a_failed_pulumi_up_halts():
    clock = ModelClock(0)
    outcome = _rollout(FakeDeployer(fail="eu-west"), FakeGate(clock), clock).run()
    assert outcome.detail == "halted: pulumi up of eu-west failed (failed: 1 error); not deployed: ap-se"


def test_configurable_window():
    clock = ModelClock(0)
    _rollout(FakeDeployer(), FakeGate(clock), clock, window_seconds=120, poll_seconds=60).run()
    assert clock.now() == 240


def test_dry_run_needs_no_cli_and_deploys_nothing():
    clock = ModelClock(0)
    deployer = FakeDeployer()
    outcome = _rollout(deployer, FakeGate(clock), clock, dry_run=True).run()
    assert (outcome.action, deployer.log) == ("dry-run", [])
    assert [s.detail for s in outcome.steps if s.name == "deploy"] == [
        "pulumi up --stack us-east (Automation API)", "pulumi up --stack eu-west (Automation API)",
        "pulumi up --stack ap-se (Automation API)"]


def test_without_the_pulumi_cli_the_deployer_says_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(rollout.shutil, "which", lambda name: None)
    with pytest.raises(MissingTool, match="the Pulumi CLI is not on PATH"):
        AutomationDeployer(tmp_path).preflight()


def test_automation_api_result_is_read(monkeypatch, tmp_path):
    from pulumi import automation

    summary = types.SimpleNamespace(result="succeeded", resource_changes={"update": 2, "same": 40})
    stack = types.SimpleNamespace(up=lambda on_output: types.SimpleNamespace(summary=summary),
                                  outputs=lambda: {"role": types.SimpleNamespace(value="primary")})
    selected = []
    monkeypatch.setattr(automation, "select_stack",
                        lambda stack_name, work_dir: selected.append((stack_name, work_dir)) or stack)
    deployer = AutomationDeployer(tmp_path)
    assert deployer.up("us-east") == (True, "succeeded: same 40, update 2")
    assert deployer.outputs("us-east") == {"role": "primary"}
    assert selected[0] == ("us-east", str(tmp_path))


def test_blue_green_switches_and_rolls_back(world):
    run = world()
    region = run.region("us-east")
    switch = BlueGreen(run.clients, run.clock, window_seconds=120, poll_seconds=60)
    first = switch.switch(region, "green")
    assert (first.action, switch.live(region)) == ("switched", "green")
    assert Traffic(run.clients).weights(region.hosted_zone_id, live_name(region)) == {"blue": 0, "green": 100}
    assert switch.switch(region, "green").action == "noop"
    run.set_health("us-east", False)
    back = switch.switch(region, "blue")
    assert (back.action, back.code, switch.live(region)) == ("rolled-back", 1, "green")
    assert back.detail == "us-east: blue failed its health check; green live again"
