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


@pytest.mark.parametrize("lag_ms,ready", [(60_500, False), (60_000, False), (59_900, True)])
def test_lag_at_or_above_the_rpo_refuses_and_under_it_starts(failed_over, lag_ms, ready):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", lag_ms)
    outcome = _failback(run)
    if ready:
        assert (outcome.action, outcome.code, run.writer()) == ("failed-back", 0, "us-east")
    else:
        assert (outcome.code, outcome.detail) == (3, f"not starting: us-east's replication lag {lag_ms / 1000:.1f} s "
                                                     "is not under the RPO budget of 60 s")
        assert run.writer() == "eu-west"


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


def test_home_failing_during_the_shift_rolls_the_weights_back_to_0(failed_over):
    run, _ = failed_over
    run.clock.advance(300)
    run.lag("us-east", 200)
    home = run.region("us-east")
    traffic = Traffic(run.clients)
    seen = []

    def break_home(percent):
        seen.append(percent)
        if percent == 25:
            run.set_health("us-east", False)

    outcome = _failback(run, on_poll=break_home)
    assert (outcome.action, outcome.code) == ("rolled-back", 1)
    assert seen == [10, 10, 10, 10, 10, 25]  # 120 s held at 10 % (every 30 s), then the failure at 25 %
    assert traffic.weights(home.hosted_zone_id, shift_name(home)) == {"shift-us-east-us-east": 0,
                                                                     "shift-us-east-eu-west": 100}
    assert [s.name for s in outcome.steps][-3:] == ["shift", "rollback", "promote"]
    assert run.writer() == "eu-west"
    state = run.store.state(run.platform)
    assert (state.mode, state.current_primary, state.failed_region) == ("failed-over", "eu-west", "us-east")


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
