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


def _live_records(run, region) -> dict:
    """Set identifier -> the record set of `live-<stack>` as Route53 lists it."""
    return {r["SetIdentifier"]: r for r in Traffic(run.clients).records(region.hosted_zone_id, live_name(region))}


def _deploy_green(run, region) -> str:
    """Add the green member the workloads tier declares when hse:appColours has both: its own
    health check, the blue member's TTL, weight 0. Returns the green health check's id."""
    route53 = run.clients("route53", "us-east-1")
    host = f"us-east-green.{region.domain}"
    check = route53.create_health_check(CallerReference="green", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": host, "Port": 443, "ResourcePath": "/api/health",
        "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=region.hosted_zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": live_name(region), "Type": "CNAME", "SetIdentifier": "green", "Weight": 0, "TTL": 60,
            "HealthCheckId": check, "ResourceRecords": [{"Value": host}]}}]})
    return check


def test_blue_green_refuses_a_colour_that_is_not_deployed(world):
    run = world()
    region = run.region("us-east")
    before = _live_records(run, region)
    assert sorted(before) == ["blue"]  # the default hse:appColours: blue only
    outcome = BlueGreen(run.clients, run.clock, window_seconds=120, poll_seconds=60).switch(region, "green")
    assert (outcome.action, outcome.code) == ("refused", 1)
    assert outcome.detail == (f"us-east: green is not deployed ({live_name(region)} has no green member; deployed: "
                              "blue); deploy it first (hse:appColours)")
    assert _live_records(run, region) == before  # nothing written


def test_blue_green_keeps_health_checks_ttl_and_set_identifiers(world):
    run = world()
    region = run.region("us-east")
    green_check = _deploy_green(run, region)
    blue = _live_records(run, region)["blue"]
    assert blue["HealthCheckId"] and blue["TTL"] == 60 and blue["Weight"] == 100
    switch = BlueGreen(run.clients, run.clock, window_seconds=120, poll_seconds=60)
    first = switch.switch(region, "green")
    assert (first.action, first.code, switch.live(region)) == ("switched", 0, "green")
    after = _live_records(run, region)
    assert after["blue"] == {**blue, "Weight": 0}
    assert after["green"] == {"Name": live_name(region) + ".", "Type": "CNAME", "SetIdentifier": "green", "Weight": 100,
                              "TTL": 60, "HealthCheckId": green_check,
                              "ResourceRecords": [{"Value": f"us-east-green.{region.domain}"}]}
    assert switch.switch(region, "green").action == "noop"


def test_blue_green_rolls_back_to_the_exact_records(world):
    run = world()
    region = run.region("us-east")
    _deploy_green(run, region)
    before = _live_records(run, region)
    run.set_health("us-east", False)
    switch = BlueGreen(run.clients, run.clock, window_seconds=120, poll_seconds=60)
    back = switch.switch(region, "green")
    assert (back.action, back.code, switch.live(region)) == ("rolled-back", 1, "blue")
    assert back.detail == "us-east: green failed its health check; blue live again"
    assert [s.name for s in back.steps] == ["switch", "watch", "rollback"]
    assert _live_records(run, region) == before


def test_reweigh_changes_only_weights_and_refuses_unknown_members(world):
    from infra.ops.traffic import UnknownMember

    run = world()
    region = run.region("us-east")
    traffic = Traffic(run.clients)
    before = _live_records(run, region)
    with pytest.raises(UnknownMember, match="has no member green; members: blue"):
        traffic.reweigh(region.hosted_zone_id, live_name(region), {"blue": 0, "green": 100}, "test")
    assert _live_records(run, region) == before
    assert traffic.reweigh(region.hosted_zone_id, live_name(region), {"blue": 0}, "test") == {"blue": 100}
    assert _live_records(run, region) == {"blue": {**before["blue"], "Weight": 0}}


def _checkers(run, statuses: dict[str, list[str]]) -> None:
    """GetHealthCheckStatus answered per health check at the boto3 boundary (moto reports every
    check healthy); a later call replaces the answers."""
    client = run.clients("route53", "us-east-1")
    answers = getattr(client, "_checker_answers", None)
    if answers is not None:
        answers.clear()
        answers.update(statuses)
        return
    answers = client._checker_answers = dict(statuses)

    def answer(params, **_):
        check = params["url_path"].split("/")[-2]
        if check not in answers:
            return None
        return types.SimpleNamespace(status_code=200, headers={}), {"HealthCheckObservations": [
            {"Region": "us-east-1", "IPAddress": "192.0.2.1", "StatusReport": {"Status": s}} for s in answers[check]],
            "ResponseMetadata": {"HTTPStatusCode": 200}}
    client.meta.events.register_first("before-call.route-53.GetHealthCheckStatus", answer)


def test_blue_green_refuses_a_colour_whose_own_health_check_fails(world):
    run = world()
    region = run.region("us-east")
    green_check = _deploy_green(run, region)
    before = _live_records(run, region)
    # 2 of 16 checkers (12.5 %) report success: at most 18 %, unhealthy for Route 53.
    _checkers(run, {green_check: ["Success: HTTP Status Code 200"] * 2 + ["Failure: Connection timed out"] * 14})
    for dry_run in (True, False):
        outcome = BlueGreen(run.clients, run.clock).switch(region, "green", dry_run=dry_run)
        assert (outcome.action, outcome.code) == ("refused", 1)
        assert outcome.detail == (f"us-east: green's health check {green_check} is failing (Route 53's checkers); "
                                  "green takes no traffic until it passes")
        assert _live_records(run, region) == before and outcome.steps == []
    # 3 of 16 (18.75 %): healthy for Route 53, the switch goes ahead.
    _checkers(run, {green_check: ["Success: HTTP Status Code 200"] * 3 + ["Failure: Connection timed out"] * 13})
    assert BlueGreen(run.clients, run.clock, window_seconds=0).switch(region, "green").action == "switched"


@pytest.mark.parametrize("passing, total, verdict", [(0, 0, False), (0, 16, False), (2, 16, False), (3, 16, True),
                                                     (9, 50, False), (10, 50, True), (16, 16, True)])
def test_route53_calls_healthy_more_than_18_percent_of_checkers(passing, total, verdict):
    from infra.domain.route53_health import healthy

    assert healthy(["Success: ok"] * passing + ["Failure: no"] * (total - passing)) is verdict


def test_blue_green_refuses_a_colour_with_no_health_check_on_its_member(world):
    run = world()
    region = run.region("us-east")
    run.clients("route53", "us-east-1").change_resource_record_sets(HostedZoneId=region.hosted_zone_id, ChangeBatch={
        "Changes": [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": live_name(region), "Type": "CNAME", "SetIdentifier": "green", "Weight": 0, "TTL": 60,
            "ResourceRecords": [{"Value": f"us-east-green.{region.domain}"}]}}]})
    before = _live_records(run, region)
    outcome = BlueGreen(run.clients, run.clock).switch(region, "green")
    assert (outcome.action, outcome.code) == ("refused", 1)
    assert outcome.detail == (f"us-east: green's member of {live_name(region)} has no health check; "
                              "nothing says it serves")
    assert _live_records(run, region) == before
