"""Failback on moto: each gate on both sides of its bound, the weights step by step, the
rollback and the roll-forward."""

from __future__ import annotations

import pytest

from infra.ops.failback import Failback, FailbackSettings
from infra.ops.traffic import Traffic, shift_name


@pytest.fixture
def failed_over(world):
    """us-east lost and failed over to eu-west, then healthy again at t0 (returned: run, t0)."""
    run = world()
    run.lose("us-east")
    run.recover("us-east")
    return run, run.clock.now()


def _failback(run, on_poll=None, **settings):
    return Failback(run.clients, run.store, run.clock, FailbackSettings(**settings), run.platform, on_poll).run()


def test_nothing_to_fail_back_in_normal_operation(world):
    run = world()
    outcome = _failback(run)
    assert (outcome.action, outcome.code, outcome.detail) == ("noop", 0, "us-east is the primary; nothing to fail back")


def test_five_minutes_of_health_both_sides(failed_over):
    run, _ = failed_over
    run.clock.advance(299)
    run.lag("us-east", 500)
    early = _failback(run)
    assert (early.code, early.detail) == (3, "not starting: us-east healthy for 299 s of the required 300 s")
    assert run.writer() == "eu-west"
    run.clock.advance(1)
    run.lag("us-east", 500)
    assert _failback(run).code == 0
    assert run.writer() == "us-east"


def test_lag_at_the_rpo_passes_and_above_it_does_not(failed_over):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", 60_500)
    over = _failback(run)
    assert (over.code, over.detail) == (3, "not starting: us-east's replication lag 60.5 s exceeds the RPO "
                                           "budget of 60 s")
    assert run.writer() == "eu-west"
    run.clock.advance(60)
    run.lag("us-east", 60_000)
    assert _failback(run).code == 0


def test_unknown_lag_and_an_unhealthy_primary_do_not_start(failed_over):
    run, _ = failed_over
    run.clock.advance(400)  # the lag datapoint of the seed is older than 5 minutes by now
    assert _failback(run).detail == ("not starting: us-east's replication lag is unknown "
                                     "(no datapoint in 5 minutes)")
    run.set_health("us-east", False)
    assert _failback(run).detail == "not starting: us-east is unhealthy"


def test_weights_go_10_25_50_100_and_the_records_return(failed_over):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", 200)
    home = run.region("us-east")
    seen = []
    traffic = Traffic(run.clients)

    def watch(percent):
        weights = traffic.weights(home.hosted_zone_id, shift_name(home))
        seen.append((percent, weights["shift-us-east-us-east"], weights["shift-us-east-eu-west"]))

    outcome = _failback(run, on_poll=watch, step_hold_seconds=60, poll_seconds=30)
    assert outcome.code == 0
    # Each weight is checked at 0, 30 and 60 s of its hold.
    assert sorted(set(seen)) == [(10, 10, 90), (25, 25, 75), (50, 50, 50), (100, 100, 0)]
    assert len(seen) == 12
    assert not traffic.held(home)
    assert run.records_restored()
    assert (run.store.state(run.platform).mode, run.nodes("eu-west")) == ("normal", 3)


def test_interim_failing_during_the_shift_rolls_forward(failed_over):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", 200)

    def break_interim(percent):
        if percent == 50:
            run.set_health("eu-west", False)

    outcome = _failback(run, on_poll=break_interim)
    assert (outcome.action, outcome.code) == ("rolled-forward", 1)
    assert run.writer() == "us-east"
    assert run.store.state(run.platform).mode == "normal"
    assert not Traffic(run.clients).held(run.region("us-east"))


def test_a_second_failback_while_one_runs_is_refused(failed_over):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", 200)
    run.store.acquire("failover")
    outcome = _failback(run)
    assert (outcome.action, outcome.detail) == ("noop", "another operation is running; try again when it ends")
    assert run.writer() == "eu-west"


def test_dry_run_checks_the_gates_and_changes_nothing(failed_over):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", 200)
    outcome = _failback(run, dry_run=True)
    assert (outcome.action, [s.name for s in outcome.steps]) == ("dry-run", ["switchover", "shift"])
    assert run.writer() == "eu-west"
