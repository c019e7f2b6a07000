"""The local drill's flags and small parts, without servers."""

from __future__ import annotations

import random

import pytest

from infra.local.dns import DnsTable, Resolver
from infra.local.load import Attempt, Ledger
from infra.local.measure import rto
from infra.local.scenarios import SCENARIOS, with_prerequisites
from infra.local.state import MemoryStateStore
from infra.ops.clock import ModelClock
from tests.local.conftest import run_cli


@pytest.mark.parametrize("argv, message", [
    (["--clock-scale", "60"], "--clock-scale needs --local"),
    (["--synchronous"], "--synchronous needs --local"),
    (["--json", "x.json"], "--json needs --local"),
    (["--local", "--moto-server"], "--local runs on local servers; --moto-server belongs to the emulator's drill"),
    (["--local", "--endpoint-url", "http://127.0.0.1:1"], "--endpoint-url belongs to the emulator's drill"),
    (["--local", "--scenario", "region-loss"], "--scenario region-loss is not a scenario of the local drill"),
    (["--scenario", "split-brain"], "--scenario split-brain is a scenario of the local drill; add --local"),
])
def test_flags_that_need_another_flag_are_usage_errors(argv, message):
    code, out, err = run_cli("drill", *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["0.5", "601", "fast"])
def test_the_drill_clock_is_bounded(value, capsys):
    with pytest.raises(SystemExit) as exited:
        run_cli("drill", "--local", "--clock-scale", value)
    assert exited.value.code == 2
    assert "argument --clock-scale:" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1", "600"])
def test_both_ends_of_the_drill_clock_are_accepted(value, monkeypatch):
    from infra.cli import ops_commands

    seen = {}
    monkeypatch.setattr(ops_commands, "cmd_drill_local", lambda args, console: seen.setdefault("scale", args.clock_scale)
                        and 0)
    assert run_cli("drill", "--local", "--clock-scale", value)[0] == 0
    assert seen["scale"] == float(value)


def test_a_scenario_brings_the_ones_it_starts_from():
    assert with_prerequisites([]) == SCENARIOS
    assert with_prerequisites(["failback"]) == ("primary-lost", "split-brain", "failback")
    assert with_prerequisites(["lagging-replica", "secondary-lost"]) == ("secondary-lost", "lagging-replica")
    assert with_prerequisites(["flapping"]) == ("primary-lost", "split-brain", "failback", "flapping")
    # The lagging replica starts from normal operation: after a failover, the failback comes first.
    assert with_prerequisites(["primary-lost", "lagging-replica"]) == ("primary-lost", "split-brain", "failback",
                                                                       "lagging-replica")


def _attempt(users_of, sent, acked, writer="", done=None):
    return Attempt(f"w{sent}", users_of, "tenant-1", sent, done if done is not None else sent + 0.01, acked, writer)


def test_rto_runs_from_the_first_write_the_old_writer_did_not_take_to_the_first_the_new_one_did():
    ledger = Ledger()
    for a in (_attempt("eu-west", 9.0, True, "us-east"), _attempt("eu-west", 10.5, False),
              _attempt("eu-west", 11.0, False), _attempt("eu-west", 12.0, True, "eu-west", done=12.25)):
        ledger.add(a)
    assert rto(ledger, "eu-west", 10.0, "eu-west", "us-east") == pytest.approx(1.75)
    assert rto(ledger, "eu-west", 13.0, "eu-west", "us-east") == 0.0  # nothing failed after the fault
    assert rto(ledger, "eu-west", 10.0, "ap-se", "us-east") is None  # never reached the new writer


def test_a_write_the_pool_held_until_the_new_writer_took_it_counts_as_down_time():
    ledger = Ledger()
    ledger.add(_attempt("ap-se", 10.2, True, "eu-west", done=11.9))
    assert rto(ledger, "ap-se", 10.0, "eu-west", "us-east") == pytest.approx(1.7)


def test_dns_answers_keep_their_ttl_and_follow_the_weights():
    health = {"us-east": True, "eu-west": True}
    table = DnsTable(["us-east", "eu-west"], {"us-east": ["us-east", "eu-west"], "eu-west": ["eu-west", "us-east"]},
                     ttl_seconds=3600, healthy=health.get)
    client = Resolver(table, "us-east", seed=1)
    assert client.resolve() == "us-east"
    health["us-east"] = False
    assert client.resolve() == "us-east"  # cached for the TTL
    assert table.answer("us-east", random.Random(0)) == "eu-west"
    table.hold("us-east", "eu-west")
    health["us-east"] = True
    assert table.answer("us-east", random.Random(0)) == "eu-west"  # held at 0 %
    table.shift("us-east", 25)
    rng = random.Random(7)
    picks = [table.answer("us-east", rng) for _ in range(4000)]
    assert 900 < picks.count("us-east") < 1100  # 25 % of 4000, eu-west the other 75 %
    table.release("us-east")
    assert [w for _, w in table.steps("us-east")] == [0, 25, 100]


def test_the_local_state_store_lock_is_exclusive_until_released_or_expired():
    clock = ModelClock()
    store = MemoryStateStore(clock)
    token = store.acquire("failover")
    assert token and store.acquire("failback") is None
    store.release("not-the-token")
    assert store.acquire("failback") is None
    store.release(token)
    again = store.acquire("failback")
    assert again
    clock.advance(900)
    assert store.acquire("failover") is None  # the lease ends at 900 s: still held at that instant
    clock.advance(1)
    assert store.acquire("failover")


def test_a_fourth_region_joins_by_its_stack_file(project_copy):
    from infra.local.platform import LocalPlatform
    from tests.conftest import edit_stack

    edit_stack(project_copy, "au", role="secondary", awsRegion="ap-southeast-2", deployOrder=3,
               peers=["us-east", "eu-west", "ap-se"], vpcCidr="10.3.0.0/16",
               availabilityZones=["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"], appInstanceCount=3,
               eksPublicAccessCidrs=["203.0.113.0/24"])
    local = LocalPlatform(project_copy, clock_scale=60)
    assert local.stacks == ["us-east", "eu-west", "ap-se", "au"]
    assert [local.pool_size(s) for s in local.stacks] == [100, 60, 60, 60]
    assert local.pool_size("au", local.platform.primary_capacity) == 100  # promoted: the primary's size
    assert local.dns.nearest["au"][:2] == ["au", "ap-se"]
    assert local.platform.region("au").role == "secondary"
    assert local.seconds(300) == 5.0 and local.dns.ttl_seconds == 1.0


@pytest.mark.parametrize("target, message", [
    ("-", "--json -: the drill prints its timelines on standard output; give a file"),
    ("{folder}", "--json cannot write {folder}: it is a folder"),
    ("{file}/drill.json", "--json cannot write {file}/drill.json: {file} is not a folder"),
])
def test_an_unwritable_json_target_is_refused_before_any_server_starts(tmp_path, monkeypatch, target, message):
    import infra.local.platform as platform

    monkeypatch.setattr(platform.LocalPlatform, "__init__", lambda *a, **k: pytest.fail("a server was started"))
    (tmp_path / "a-file").write_text("kept\n")
    names = {"folder": str(tmp_path), "file": str(tmp_path / "a-file")}
    code, out, err = run_cli("drill", "--local", "--json", target.format(**names))
    assert code == 2
    assert message.format(**names) in err and "Traceback" not in err
    assert (tmp_path / "a-file").read_text() == "kept\n"


def test_a_read_only_folder_is_refused_before_any_server_starts(tmp_path, monkeypatch):
    import os

    import infra.local.platform as platform

    if os.geteuid() == 0:
        # root writes anywhere: the refusal is the kernel's to make, so test the check on a path it refuses too.
        monkeypatch.setattr(os, "access", lambda path, mode: False)
    else:
        tmp_path.chmod(0o500)
    monkeypatch.setattr(platform.LocalPlatform, "__init__", lambda *a, **k: pytest.fail("a server was started"))
    code, out, err = run_cli("drill", "--local", "--json", str(tmp_path / "drill.json"))
    assert code == 2
    assert f"--json cannot write {tmp_path / 'drill.json'}: {tmp_path} is not writable" in err
