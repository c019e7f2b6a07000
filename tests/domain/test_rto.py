"""The modeled recovery time: every term counted, literal figures on both sides of the 300 s bound."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infra.domain import rto


def test_the_default_profile_counts_the_alarm_window_and_the_forwarding() -> None:
    model = rto.model(30, 3, 60, "aurora-postgresql")
    assert (model.detection_seconds, model.alarm_seconds, model.forwarding_seconds, model.promotion_seconds,
            model.reconnect_seconds) == (90, 60, 15, 60, 30)
    assert model.controller_seconds == 135  # 60 s alarm window + 15 s forwarding + 60 s promotion
    assert model.total_seconds == 255  # 90 + max(60 TTL, 135) + 30
    assert model.total_seconds < rto.SPEC_RTO_SECONDS


def test_the_alarm_window_is_the_alarms_period_times_its_evaluation_periods() -> None:
    assert (rto.HEALTH_ALARM_PERIOD_SECONDS, rto.HEALTH_ALARM_EVALUATION_PERIODS) == (60, 1)
    longer = rto.RtoModel(90, 60, 60, 30, alarm_seconds=60 * 3)
    assert longer.total_seconds == 90 + (180 + 15 + 60) + 30


def test_a_long_ttl_is_the_longer_parallel_path() -> None:
    assert rto.RtoModel(90, 200, 60, 30).total_seconds == 90 + 200 + 30


@pytest.mark.parametrize("interval,threshold,engine,total", [
    (30, 4, "aurora-postgresql", 285), (30, 5, "aurora-postgresql", 315),  # both sides of 300 s
    (10, 3, "aurora-postgresql", 195), (10, 10, "aurora-postgresql", 265),
    (30, 3, "rds-postgres", 315), (10, 3, "rds-postgres", 255),  # rds-postgres needs the fast profile
])
def test_totals(interval, threshold, engine, total) -> None:
    assert rto.model(interval, threshold, 60, engine).total_seconds == total


def test_without_us_east_1_the_watchdog_path_is_modeled() -> None:
    model = rto.model(30, 3, 60, "aurora-postgresql")
    # DNS still moves at 90 + 60 s; the watchdog's 3 ticks of 60 s, then the promotion, then reconnect.
    assert model.watchdog_total_seconds == max(90 + 60, 3 * 60 + 60) + 30 == 270


def test_the_json_carries_every_term() -> None:
    edge = SimpleNamespace(health_check_interval=30, health_check_failure_threshold=3, dns_ttl=60)
    modeled, fast = rto.for_config(edge, "aurora-postgresql")
    data = modeled.to_json(fast)
    assert {k: v for k, v in data.items() if k != "formula"} == {
        "detectionSeconds": 90, "dnsTtlSeconds": 60, "alarmSeconds": 60, "forwardingSeconds": 15,
        "promotionSeconds": 60, "reconnectSeconds": 30, "totalSeconds": 255, "fastProfileTotalSeconds": 195,
        "usEast1LostTotalSeconds": 270, "specSeconds": 300}
