"""Detection without us-east-1: the health read falls back to probing the regions, and the
controller's watchdog fails the primary over after 3 failed ticks (on moto, us-east-1's
CloudWatch made unreachable at the boto3 boundary)."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from infra.domain.rto import WATCHDOG_EVENT
from infra.ops import health
from infra.ops.entry import handle
from infra.ops.health import HealthReader, health_url
from infra.ops.watchdog import Watchdog, is_tick


class Probes:
    """Fake HTTPS probes: a region is up unless listed in `down`; every URL asked is kept."""

    def __init__(self, *down: str):
        self.down = set(down)
        self.asked: list[str] = []

    def __call__(self, url: str) -> bool:
        self.asked.append(url)
        return not any(url.startswith(f"https://{stack}.") for stack in self.down)


def _lose_us_east_1_cloudwatch(run) -> None:
    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://monitoring.us-east-1.amazonaws.com")

    run.clients("cloudwatch", "us-east-1").meta.events.register_first(
        "before-call.cloudwatch.DescribeAlarmsForMetric", unreachable)


def _tick(run, probes: Probes):
    return Watchdog(run.clients, run.store, run.clock, run.settings, run.platform, probes).tick()


def test_the_health_read_probes_the_region_when_the_alarms_do_not_answer(world):
    run = world()
    probes = Probes("us-east")
    reader = HealthReader(run.clients, run.clock, probes)
    assert reader.healthy(run.region("us-east")) is True and probes.asked == []  # the alarm answers: OK
    _lose_us_east_1_cloudwatch(run)
    assert reader.healthy(run.region("us-east")) is False
    assert reader.healthy(run.region("eu-west")) is True
    url = health_url(run.region("us-east"))
    assert url == f"https://us-east.{run.region('us-east').domain}/api/health"
    assert probes.asked.count(url) == 3


@pytest.mark.parametrize("answers,healthy", [((True, True, False), True), ((True, False, False), False)])
def test_a_majority_of_probes_decides(world, answers, healthy):
    run = world()
    _lose_us_east_1_cloudwatch(run)
    given = iter(answers)
    reader = HealthReader(run.clients, run.clock, lambda url: next(given))
    assert reader.healthy(run.region("eu-west")) is healthy


def test_while_the_alarms_answer_the_watchdog_does_nothing(world):
    run = world()
    probes = Probes("us-east")
    outcome = _tick(run, probes)
    assert (outcome.operation, outcome.action) == ("watchdog", "noop")
    assert probes.asked == [] and run.store.get("REGION#us-east", "PROBE") is None


def test_us_east_1_lost_three_failed_ticks_fail_the_primary_over(world):
    run = world()
    _lose_us_east_1_cloudwatch(run)
    probes = Probes("us-east")
    first, second = _tick(run, probes), _tick(run, probes)
    assert (first.action, second.action) == ("recorded", "recorded")
    assert second.detail == ("us-east-1's health alarms do not answer; probes: us-east down 2/3, eu-west up, "
                             "ap-se up")
    assert run.writer() == "us-east"
    third = _tick(run, probes)
    assert (third.action, third.target, run.writer()) == ("failed-over", "eu-west", "eu-west")
    assert third.detail.startswith("us-east-1's health alarms do not answer; probes: us-east down 3/3")
    detect = third.steps[0]
    assert (detect.name, detect.modeled_seconds) == ("detect", 180)
    assert third.rto_seconds == 270  # max(90 + 60 DNS, 180 + 60 promotion) + 30
    assert run.store.state(run.platform).current_primary == "eu-west"
    # A fourth failed tick does not fail anything over again.
    fourth = _tick(run, probes)
    assert (fourth.action, run.writer()) == ("recorded", "eu-west")
    assert fourth.detail.endswith("us-east down 4/3, eu-west up, ap-se up")


def test_the_first_good_probe_after_a_failover_records_the_recovery(world):
    run = world()
    _lose_us_east_1_cloudwatch(run)
    probes = Probes("us-east")
    for _ in range(3):
        _tick(run, probes)
    run.clock.advance(60)
    probes.down.clear()
    back = _tick(run, probes)
    assert back.action == "recorded"
    assert run.store.health("us-east")["healthy"] is True
    assert run.store.health("us-east")["since"] == run.clock.now()
    assert run.store.get("REGION#us-east", "PROBE")["failures"] == 0


def test_route53_api_loss_does_not_stop_the_promotion(world):
    run = world()
    _lose_us_east_1_cloudwatch(run)

    def route53_down(**_):
        raise EndpointConnectionError(endpoint_url="https://route53.amazonaws.com")

    run.clients("route53", "us-east-1").meta.events.register_first("before-call.route53.*", route53_down)
    probes = Probes("us-east")
    outcomes = [_tick(run, probes) for _ in range(3)]
    dns = next(s for s in outcomes[-1].steps if s.name == "dns")
    assert (outcomes[-1].action, run.writer()) == ("failed-over", "eu-west")
    assert dns.detail == ("health checks route around us-east; Route53's API did not answer (EndpointConnectionError): "
                          "us-east's users are not held on eu-west, run `python -m infra.cli failover` again once "
                          "it answers")


def test_the_lambda_entry_runs_the_watchdog_on_a_tick(world, monkeypatch):
    run = world()
    assert is_tick(WATCHDOG_EVENT) and not is_tick({"source": "aws.cloudwatch"})
    _lose_us_east_1_cloudwatch(run)
    monkeypatch.setattr(health, "https_probe", Probes("ap-se"))
    result = handle(dict(WATCHDOG_EVENT), run.clients, run.store, run.clock, run.settings, run.platform)
    assert (result["operation"], result["action"]) == ("watchdog", "recorded")
    assert result["detail"] == ("us-east-1's health alarms do not answer; probes: us-east up, eu-west up, "
                                "ap-se down 1/3")
