"""Each procedure broken one realistic way, on real servers: the drill reports the broken
promise and exits 4. (CI runs these; they bring up a fresh platform each.)"""

from __future__ import annotations

import functools
import time

from infra.local import drill as local_drill
from infra.local.backend import LocalDatabase
from infra.ops.failback import Failback, FailbackSettings
from infra.ops.failover import Controller


def test_promoting_without_fencing_lets_the_old_primary_take_writes(drill, monkeypatch):
    monkeypatch.setattr(LocalDatabase, "fence", lambda self, old: "not fenced")
    code, data, _ = drill("split-brain")
    assert code == 4
    from tests.local.conftest import failed, scenario
    assert failed(data, "primary-lost") == ["us-east's instance is fenced (pg_hba rejects every TCP connection)"]
    broken = failed(data, "split-brain")
    assert any(w.startswith("the old primary took ") and not w.startswith("the old primary took 0 ") for w in broken)
    assert scenario(data, "split-brain")["measured"]["splitBrainWrites"] > 0


def test_failing_back_before_the_standby_caught_up_loses_acknowledged_writes(drill, monkeypatch):
    from tests.local.conftest import failed

    original = local_drill.LocalDrill.failback_scenario

    def stalled_standby(self, result):
        # The returned primary stops receiving WAL while the interim one keeps taking writes.
        self.local.region(self.home).node.disconnect()
        time.sleep(0.5)
        original(self, result)

    monkeypatch.setattr(local_drill.LocalDrill, "failback_scenario", stalled_standby)
    monkeypatch.setattr(Failback, "gates", lambda self: (None, 0.0))          # the gates skipped
    monkeypatch.setattr(LocalDatabase, "caught_up", lambda self, target, position: None)  # no waiting either
    code, data, _ = drill("failback")
    assert code == 4
    assert any(w.startswith("zero divergence") for w in failed(data, "failback"))


def test_the_same_stalled_standby_is_refused_by_the_gates_and_nothing_is_lost(drill, monkeypatch):
    from tests.local.conftest import failed, scenario

    original = local_drill.LocalDrill.failback_scenario

    def stalled_standby(self, result):
        self.local.region(self.home).node.disconnect()
        original(self, result)

    monkeypatch.setattr(local_drill.LocalDrill, "failback_scenario", stalled_standby)
    code, data, _ = drill("failback")
    assert code == 4  # no failback happened, which the scenario promises
    broken = failed(data, "failback")
    assert "failback ran to its end: not-ready (exit 3)" in broken
    assert not any(w.startswith("zero divergence") for w in broken)
    refusals = [o["detail"] for o in scenario(data, "failback")["outcomes"] if o["action"] == "not-ready"]
    assert "replication to us-east is not re-established: us-east's instance does not stream from eu-west" \
        in refusals[-1]


def test_skipping_a_traffic_step_is_caught(drill, monkeypatch):
    from tests.local.conftest import failed

    monkeypatch.setattr(local_drill, "FailbackSettings", functools.partial(FailbackSettings, steps=(10, 50, 100)))
    code, data, _ = drill("failback")
    assert code == 4
    assert "traffic back in steps [10, 50, 100] (expected [10, 25, 50, 100])" in failed(data, "failback")


def test_picking_the_lagging_replica_is_caught(drill, monkeypatch):
    from tests.local.conftest import failed, scenario

    chosen = Controller.candidates
    monkeypatch.setattr(Controller, "candidates",
                        lambda self, failed: sorted(chosen(self, failed), key=lambda c: c.region.deploy_order))
    code, data, _ = drill("lagging-replica")
    assert code == 4
    broken = failed(data, "lagging-replica")
    assert "the controller promoted eu-west, not the lagging eu-west" in broken
    assert any(w.startswith("RPO: ") for w in broken)
    assert scenario(data, "lagging-replica")["measured"]["rpoRows"] > 0


def test_an_error_mid_drill_stops_every_server(drill, monkeypatch, roots, tmp_path):
    from tests.local.conftest import run_cli, survivors

    def broken(self, result):
        raise RuntimeError("the drill's own bug")

    monkeypatch.setattr(local_drill.LocalDrill, "secondary_lost", broken)
    code, data, out = drill("secondary-lost")
    assert code == 4
    assert data["local"]["scenarios"][0]["checks"][0] == {
        "what": "the scenario ran to its end: RuntimeError: the drill's own bug", "ok": False}

    def crash(self, scenarios):
        raise KeyboardInterrupt

    monkeypatch.setattr(local_drill.LocalDrill, "run", crash)
    target = tmp_path / "interrupted.json"
    code, _, err = run_cli("drill", "--local", "--clock-scale", "60", "--scenario", "secondary-lost",
                           "--json", str(target))
    assert code == 130 and not target.exists()
    assert survivors(roots) == [] and len(roots) == 2
