"""The whole local drill, once, on real servers: every scenario holds its promises, the
measurements are in drill.json in the format `report --drill` reads, and nothing is left
running. (CI runs this; it takes about a minute.)"""

from __future__ import annotations

import json

import pytest

from infra.local.scenarios import SCENARIOS
from infra.report.drill import load
from tests.local.conftest import CLOCK, run_cli, scenario, survivors

RPO_BUDGET = 60 / float(CLOCK)
RTO_BUDGET = 300 / float(CLOCK)


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    from infra.local.platform import LocalPlatform

    made = []
    up = LocalPlatform.up

    def recording(self):
        try:
            up(self)
        finally:
            made.append(self.root)

    LocalPlatform.up = recording
    try:
        target = tmp_path_factory.mktemp("drill") / "drill.json"
        code, out, err = run_cli("drill", "--local", "--clock-scale", CLOCK, "--json", str(target))
    finally:
        LocalPlatform.up = up
    return {"code": code, "out": out, "err": err, "path": target, "data": json.loads(target.read_text()),
            "roots": made}


def test_every_promise_held_and_the_exit_code_says_so(whole):
    failures = {s["name"]: [c["what"] for c in s["checks"] if not c["ok"]] for s in whole["data"]["local"]["scenarios"]}
    assert failures == {name: [] for name in SCENARIOS}
    assert (whole["code"], whole["err"]) == (0, "")
    assert whole["data"]["local"]["passed"] is True
    assert "local drill: 6 of 6 scenarios held their promises" in whole["out"]


def test_nothing_the_drill_started_is_left_running(whole):
    assert len(whole["roots"]) == 1
    assert survivors(whole["roots"]) == []
    assert not whole["roots"][0].exists()


def test_the_table_and_the_timelines_are_printed(whole):
    out = whole["out"]
    assert "scenario          RTO (worst region)  RPO rows   RPO s  divergence   controller  result" in out
    for name in SCENARIOS:
        assert f"== local scenario {name}:" in out
    assert "BROKEN" not in out and "FAIL" not in out


def test_primary_loss_is_measured_within_the_budgets(whole):
    lost = scenario(whole["data"], "primary-lost")["measured"]
    assert lost["target"] == "eu-west"  # healthy, no lag, first in deploy order
    assert set(lost["rtoSeconds"]) == {"us-east", "eu-west", "ap-se"}
    assert all(0 < seconds < RTO_BUDGET for seconds in lost["rtoSeconds"].values())
    assert lost["rpoSeconds"] < RPO_BUDGET
    assert 0 < lost["controllerSeconds"] < 5
    assert set(lost["promotionParts"]) == {"fence", "pg_promote", "repoint"}


def test_report_reads_the_file_measured_beside_modeled(whole):
    timeline = load(whole["path"])
    assert timeline.budget_seconds == 300
    assert timeline.modeled_total == 255  # the spec profile on Aurora: 165 detection + 60 promotion + 30 reconnect
    assert 0 < timeline.measured_total < RTO_BUDGET


def test_the_old_primary_took_no_write_after_it_came_back(whole):
    assert scenario(whole["data"], "split-brain")["measured"]["splitBrainWrites"] == 0


def test_failback_is_lossless_and_replication_is_back(whole):
    back = scenario(whole["data"], "failback")
    assert back["measured"]["rpoRows"] == 0 and back["measured"]["duplicates"] == 0
    assert back["measured"]["checksumsEqual"] is True
    assert back["measured"]["refusedAttempts"] >= 1  # refused before 5 minutes (drill clock) of health
    shifts = [s["detail"] for o in back["outcomes"] for s in o["steps"] if s["name"] == "shift"]
    assert shifts == ["us-east 10 %, eu-west 90 %", "us-east 25 %, eu-west 75 %", "us-east 50 %, eu-west 50 %",
                      "us-east 100 %, eu-west 0 %"]


def test_flapping_never_moves_the_writer(whole):
    actions = [(o["operation"], o["action"]) for o in scenario(whole["data"], "flapping")["outcomes"]
               if o["action"] != "recorded"]
    assert actions == [("health", "noop"), ("failover", "suppressed")]  # the stale alarm, the real one in the hold-down


def test_the_lagging_replica_is_passed_over(whole):
    lagging = scenario(whole["data"], "lagging-replica")
    assert lagging["measured"]["target"] == "ap-se"
    decide = next(s["detail"] for o in lagging["outcomes"] for s in o["steps"] if s["name"] == "decide")
    assert decide.startswith("target ap-se; candidates ap-se")


def test_no_reader_ever_saw_another_tenants_row(whole):
    assert all(s["measured"]["crossTenantRows"] == 0 for s in whole["data"]["local"]["scenarios"])


def test_synchronous_replication_loses_nothing_when_the_primary_is_lost(tmp_path, roots):
    target = tmp_path / "sync.json"
    code, out, err = run_cli("drill", "--local", "--clock-scale", CLOCK, "--synchronous", "--scenario",
                             "lagging-replica", "--json", str(target))
    assert (code, err) == (0, "")
    data = json.loads(target.read_text())
    assert data["local"]["synchronous"] is True
    lagging = scenario(data, "lagging-replica")
    assert lagging["measured"]["rpoRows"] == 0 and lagging["measured"]["target"] == "ap-se"
    assert any(c["what"].endswith("; synchronous replication promises none") and c["ok"] for c in lagging["checks"])
    assert survivors(roots) == []
