"""The DR drill end to end: every scenario on moto, every check green (this runs in CI)."""

from __future__ import annotations

import io

import pytest

from infra.ops import drill

STUBBED = ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"]


@pytest.fixture(scope="module")
def default_results(views):
    return {name: drill.run_scenario(name, views, {"us-east": 5, "eu-west": 3, "ap-se": 3})
            for name in ("region-loss", "database-only", "redis", "flapping", "failure-during-failback")}


@pytest.fixture(scope="module")
def staging_results(staging_views):
    return {name: drill.run_scenario(name, staging_views, {"us-east": 5, "eu-west": 3, "ap-se": 3})
            for name in ("redis", "residency")}


@pytest.mark.parametrize("name, checks", [("region-loss", 13), ("database-only", 5), ("redis", 2), ("flapping", 6),
                                          ("failure-during-failback", 5)])
def test_every_check_of_every_scenario_passes(default_results, name, checks):
    result = default_results[name]
    assert [c.what for c in result.checks if not c.ok] == []
    assert len(result.checks) == checks


@pytest.mark.parametrize("name", ["redis", "residency"])
def test_scenarios_pass_with_every_optional_key_set(staging_results, name):
    assert [c.what for c in staging_results[name].checks if not c.ok] == []


def test_region_loss_timeline_is_within_the_budgets(default_results):
    failover, *_, failback = default_results["region-loss"].outcomes
    assert (failover.action, failover.target, failover.code) == ("failed-over", "eu-west", 0)
    assert [s.name for s in failover.steps] == ["detect", "decide", "promote", "dns", "cache", "scale",
                                                "reconnect", "notify"]
    assert failover.rto_seconds == 255  # 90 detection + max(60 TTL, 60 alarm + 15 forwarding + 60 promotion) + 30
    assert failover.rpo_seconds == pytest.approx(0.35)
    assert [s.detail for s in failback.steps if s.name == "shift"] == [
        "us-east 10 %, eu-west 90 %", "us-east 25 %, eu-west 75 %", "us-east 50 %, eu-west 50 %",
        "us-east 100 %, eu-west 0 %"]
    assert default_results["region-loss"].stubbed == STUBBED


def test_fast_profile_detection_comes_from_the_plan(staging_results):
    detect = staging_results["residency"].outcomes[0].steps[0]
    # staging: 10 s x 2 checks, then the alarm's 60 s window and 15 s of forwarding.
    assert (detect.name, detect.modeled_seconds) == ("detect", 95)


def test_redis_with_a_global_datastore_moves_its_primary(staging_results):
    result = staging_results["redis"]
    assert result.outcomes[0].action == "failed-over"
    assert "elasticache:FailoverGlobalReplicationGroup" in result.stubbed


def test_printed_timeline_names_the_budgets_and_the_stubs(default_results):
    out = io.StringIO()
    drill.print_result(default_results["region-loss"], out)
    text = out.getvalue()
    assert "modeled RTO 255 s of 300 s: within budget" in text
    assert "RPO (replication lag of the promoted or returning region) 0.35 s of 60 s: within budget" in text
    assert "stubbed at the boto3 boundary (moto lacks them): rds:FailoverGlobalCluster, " \
           "rds:SwitchoverGlobalCluster" in text
    assert "FAIL" not in text


def test_residency_scenario_without_a_bound_tenant_is_a_clear_error(views):
    with pytest.raises(drill.DrillError, match="edgeTenantRouting"):
        drill.run_scenario("residency", views, {"us-east": 5, "eu-west": 3, "ap-se": 3})
