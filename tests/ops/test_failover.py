"""The failover controller's paths on moto: target choice, each promotion method,
dry-run, the lock, the hold-down, secondaries, the cache."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.ops.clock import ModelClock
from infra.ops.database import Database
from infra.ops.failback import Failback
from infra.ops.failover import Controller, Settings
from infra.domain.platform import Platform, RegionRecord
from infra.ops.signals import Signal
from infra.ops.state import LOCK_LEASE_SECONDS


def _controller(run, **settings) -> Controller:
    return Controller(run.clients, run.store, run.clock, Settings(**{"hold_down_seconds": 900, **settings}),
                      run.platform)


def _lose(run, stack: str, **settings):
    run.set_health(stack, False)
    return _controller(run, **settings).handle(Signal(stack, "region", "ALARM", "test"))


def test_target_is_the_healthy_secondary_with_the_lowest_lag(world):
    run = world()
    run.lag("eu-west", 2_000)   # eu-west now lags 2 s, ap-se 0.9 s (seeded)
    outcome = _lose(run, "us-east")
    assert (outcome.action, outcome.target, run.writer()) == ("failed-over", "ap-se", "ap-se")
    assert outcome.rpo_seconds == pytest.approx(0.9)


def test_an_unhealthy_secondary_is_never_the_target(world):
    run = world()
    run.set_health("eu-west", False)
    outcome = _lose(run, "us-east")
    assert (outcome.target, run.writer()) == ("ap-se", "ap-se")


def test_no_healthy_secondary_leaves_the_writer_and_says_so(world):
    run = world()
    run.set_health("eu-west", False)
    run.set_health("ap-se", False)
    outcome = _lose(run, "us-east")
    assert (outcome.action, outcome.code, run.writer()) == ("noop", 1, "us-east")
    assert outcome.detail == "no healthy region to promote; us-east stays the writer"


def test_lag_over_the_rpo_is_reported_but_does_not_block_an_unplanned_failover(world):
    run = world()
    run.lag("eu-west", 61_000)
    run.lag("ap-se", 75_000)
    outcome = _lose(run, "us-east")
    decide = next(s for s in outcome.steps if s.name == "decide")
    assert outcome.target == "eu-west"
    assert decide.detail.endswith("lag 61.0 s is not under the RPO of 60 s")


def test_an_unknown_lag_is_never_taken_as_zero(world):
    run = world()
    run.clock.advance(301)          # the seeded datapoints (eu-west 0.35 s, ap-se 0.9 s) leave the 5-minute window
    run.lag("ap-se", 45_000)        # ap-se lags 45 s; eu-west's lag is unknown
    outcome = _lose(run, "us-east")
    decide = next(s for s in outcome.steps if s.name == "decide")
    assert (outcome.target, run.writer()) == ("ap-se", "ap-se")   # known 45 s beats unknown (never 0)
    assert decide.detail == "target ap-se; candidates ap-se (lag 45.0 s), eu-west (lag unknown)"
    assert outcome.rpo_seconds == pytest.approx(45.0)


def test_with_every_lag_unknown_the_deploy_order_decides_and_the_rpo_is_unknown(world):
    run = world()
    run.clock.advance(301)
    outcome = _lose(run, "us-east")
    assert (outcome.target, outcome.rpo_seconds) == ("eu-west", None)


def test_a_lag_datapoint_without_its_source_region_is_not_read(world):
    """CloudWatch matches a metric's full dimension set: Aurora's lag has SourceRegion too."""
    from datetime import datetime, timezone

    from infra.ops.health import HealthReader

    run = world()
    run.clock.advance(301)
    west = run.region("eu-west")
    run.clients("cloudwatch", "eu-west-1").put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "AuroraGlobalDBReplicationLag", "Value": 100.0, "Unit": "Milliseconds",
        "Timestamp": datetime.fromtimestamp(run.clock.now(), timezone.utc),
        "Dimensions": [{"Name": "DBClusterIdentifier", "Value": west.db_cluster_id}]}])
    reader = HealthReader(run.clients, run.clock)
    assert reader.replication_lag_seconds(west, run.region("us-east")) is None
    run.lag("eu-west", 250)
    assert reader.replication_lag_seconds(west, run.region("us-east")) == pytest.approx(0.25)
    assert reader.replication_lag_seconds(west, run.region("ap-se")) is None  # another writer's region


@pytest.mark.parametrize("lag_ms,said", [(60_000, True), (59_999, False)])
def test_the_decision_says_when_the_lag_is_not_under_the_rpo(world, lag_ms, said):
    run = world()
    run.lag("eu-west", lag_ms)
    run.lag("ap-se", 90_000)
    decide = next(s for s in _lose(run, "us-east").steps if s.name == "decide")
    assert decide.detail.endswith(f"; lag {lag_ms / 1000:.1f} s is not under the RPO of 60 s") is said


def test_the_failed_regions_users_are_held_on_the_target_at_0_and_100(world):
    from infra.ops.traffic import Traffic, shift_name

    run = world()
    _lose(run, "us-east")
    home, west = run.region("us-east"), run.region("eu-west")
    records = {r["SetIdentifier"]: r for r in Traffic(run.clients).records(home.hosted_zone_id, shift_name(home))}
    assert {i: (r["Weight"], r["ResourceRecords"][0]["Value"], r["HealthCheckId"]) for i, r in records.items()} == {
        "shift-us-east-us-east": (0, home.regional_endpoint, home.health_check_id),
        "shift-us-east-eu-west": (100, west.regional_endpoint, west.health_check_id)}
    geo = Traffic(run.clients).geo_records(home)
    assert geo and {r["ResourceRecords"][0]["Value"] for r in geo} == {shift_name(home)}


def test_a_bound_tenant_zone_outranks_lag(world):
    run = world()
    primary = run.platform.original_primary
    bound = dataclasses.replace(primary, tenant_routes=({"tenant": "t", "stack": "us-east", "zone": "AS",
                                                         "fallback": "ap-se"},))
    run.platform = Platform.of([bound, *[r for r in run.platform.regions if r.role != "primary"]])
    outcome = _lose(run, "us-east")
    assert outcome.target == "ap-se"  # 0.9 s of lag against eu-west's 0.35 s, but inside the tenant's zone
    assert "tenant t (AS): served by ap-se" in [s.detail for s in outcome.steps if s.name == "residency"]


def _client_error(code: str, operation: str = "FailoverGlobalCluster") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def _failover_answers(run, *answers) -> list:
    """FailoverGlobalCluster in eu-west-1 answers each of `answers` in turn (an exception is
    raised; None lets the emulator perform it). Returns the list of attempts made."""
    attempts: list = []

    def answer(params, **_):
        attempts.append(run.clock.now())
        outcome = answers[min(len(attempts), len(answers)) - 1]
        if outcome is not None:
            raise outcome

    run.clients("rds", "eu-west-1").meta.events.register_first("before-call.rds.FailoverGlobalCluster", answer)
    return attempts


def _removed(run) -> list:
    removed: list = []
    run.clients("rds", "eu-west-1").meta.events.register(
        "before-parameter-build.rds.RemoveFromGlobalCluster", lambda params, **_: removed.append(dict(params)))
    return removed


def _cluster_groups(run, stack: str) -> list[str]:
    region = run.region(stack)
    cluster = run.clients("rds", region.aws_region).describe_db_clusters(DBClusterIdentifier=region.db_cluster_id)
    return [g["VpcSecurityGroupId"] for g in cluster["DBClusters"][0]["VpcSecurityGroups"]]


def _default_group(run, stack: str) -> str:
    ec2 = run.clients("ec2", run.region(stack).aws_region)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                 {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]


def test_refused_managed_failover_detaches_promotes_and_fences_the_old_primary(world):
    run = world()
    _failover_answers(run, _client_error("InvalidGlobalClusterStateFault"))
    removed = _removed(run)
    fence = _default_group(run, "us-east")
    assert _cluster_groups(run, "us-east") != [fence]
    outcome = _lose(run, "us-east")
    promote = next(s for s in outcome.steps if s.name == "promote")
    west, east = run.region("eu-west"), run.region("us-east")
    vpc = run.clients("ec2", "us-east-1").describe_security_groups(GroupIds=[fence])["SecurityGroups"][0]["VpcId"]
    assert promote.detail == (f"managed failover refused (InvalidGlobalClusterStateFault); detached "
                              f"{west.db_cluster_id} from {west.db_global_cluster_id} as a standalone writer; "
                              f"old primary {east.db_cluster_id} fenced (only {fence}, {vpc}'s default group, "
                              "which admits nothing)")
    assert removed == [{"GlobalClusterIdentifier": west.db_global_cluster_id, "DbClusterIdentifier": west.db_cluster_arn}]
    assert _cluster_groups(run, "us-east") == [fence]
    assert run.store.state(run.platform).current_primary == "eu-west"
    # Detached: no longer a member, and the failback refuses until it is rebuilt as a secondary.
    assert west.db_cluster_arn not in run.emulation.writer_flags(west.db_global_cluster_id)
    assert run.emulation.calls == ["rds:RemoveFromGlobalCluster"]
    run.recover("us-east")
    run.clock.advance(300)
    run.lag("us-east", 100)
    refused = Failback(run.clients, run.store, run.clock, platform=run.platform).run()
    assert (refused.code, refused.detail) == (
        3, f"replication to us-east is not re-established: eu-west does not lead {west.db_global_cluster_id} "
           "with us-east as a member; rebuild it as a secondary first (docs/runbooks/failback.md, "
           "'After a detach or a promoted replica')")


def test_a_fence_the_lost_region_cannot_take_is_reported_not_fatal(world):
    from botocore.exceptions import EndpointConnectionError

    run = world()
    _failover_answers(run, _client_error("InvalidGlobalClusterStateFault"))

    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://rds.us-east-1.amazonaws.com")

    before = _cluster_groups(run, "us-east")
    run.clients("rds", "us-east-1").meta.events.register_first("before-call.rds.DescribeDBClusters", unreachable)
    outcome = _lose(run, "us-east")
    promote = next(s for s in outcome.steps if s.name == "promote")
    assert (outcome.action, run.store.state(run.platform).current_primary) == ("failed-over", "eu-west")
    assert promote.detail.endswith(f"old primary {run.region('us-east').db_cluster_id} NOT fenced "
                                   "(EndpointConnectionError): fence it by hand when us-east-1 answers "
                                   "(docs/runbooks/failover.md)")
    run.clients("rds", "us-east-1").meta.events.unregister("before-call.rds.DescribeDBClusters", unreachable)
    assert _cluster_groups(run, "us-east") == before


@pytest.mark.parametrize("error", [
    _client_error("Throttling"), _client_error("InvalidDBClusterStateFault"), _client_error("InternalFailure"),
], ids=lambda e: e.response["Error"]["Code"])
def test_any_other_error_is_retried_with_backoff_then_fails_loudly_without_detaching(world, error):
    from infra.ops.database import DatabaseError

    run = world()
    attempts = _failover_answers(run, error)
    removed = _removed(run)
    start = run.clock.now()
    with pytest.raises(DatabaseError) as raised:
        _lose(run, "us-east")
    code = error.response["Error"]["Code"]
    west = run.region("eu-west")
    assert str(raised.value) == (f"failover_global_cluster to {west.db_cluster_id} failed 3 times ({code}, {code}, "
                                 f"{code}); nothing detached: a managed failover may still be starting, check "
                                 "describe-global-clusters (docs/runbooks/failover.md)")
    assert [t - start for t in attempts] == [0, 2, 6]  # backoff 2 s, then 4 s; no fourth try
    assert removed == [] and run.emulation.calls == []
    assert run.writer() == "us-east"
    state = run.store.state(run.platform)
    assert (state.mode, state.current_primary) == ("normal", "us-east")
    assert run.store.holder() is None  # the lock is released for the retry (Lambda's, then the DLQ)
    promote = [e for e in run.store.events() if e["step"] == "promote"]
    assert [e["detail"] for e in promote] == [f"failed: {raised.value}"]


def test_a_timeout_then_success_is_a_managed_failover(world):
    from botocore.exceptions import ReadTimeoutError

    run = world()
    attempts = _failover_answers(run, ReadTimeoutError(endpoint_url="https://rds.eu-west-1.amazonaws.com"),
                                 _client_error("Throttling"), None)
    removed = _removed(run)
    outcome = _lose(run, "us-east")
    promote = next(s for s in outcome.steps if s.name == "promote")
    assert len(attempts) == 3 and removed == []
    assert promote.detail == (f"failover_global_cluster to {run.region('eu-west').db_cluster_id} (AllowDataLoss) "
                              "after ReadTimeoutError, Throttling")
    assert (outcome.action, run.writer()) == ("failed-over", "eu-west")


def _failover_state(run, status: str, to_arn: str) -> None:
    """describe_global_clusters (from eu-west-1) reports an operation under way."""
    def report(parsed, **_):
        for cluster in parsed.get("GlobalClusters", []):
            cluster["FailoverState"] = {"Status": status, "ToDbClusterArn": to_arn, "IsDataLossAllowed": True}

    run.clients("rds", "eu-west-1").meta.events.register("after-call.rds.DescribeGlobalClusters", report)


def test_a_refusal_while_our_own_accepted_failover_runs_waits_for_it(world):
    from botocore.exceptions import ReadTimeoutError

    run = world()
    west = run.region("eu-west")
    accepted = ReadTimeoutError(endpoint_url="https://rds.eu-west-1.amazonaws.com")

    def timeout_after_acceptance(params, **_):
        if not run.emulation.calls:  # AWS takes the first call, the answer is lost
            run.emulation._move_writer({"GlobalClusterIdentifier": west.db_global_cluster_id,
                                        "TargetDbClusterIdentifier": west.db_cluster_arn}, "eu-west-1")
            run.emulation.calls.append("rds:FailoverGlobalCluster")
            raise accepted
        raise _client_error("InvalidGlobalClusterStateFault")

    run.clients("rds", "eu-west-1").meta.events.register_first("before-call.rds.FailoverGlobalCluster",
                                                               timeout_after_acceptance)
    _failover_state(run, "failing-over", west.db_cluster_arn)
    removed = _removed(run)
    outcome = _lose(run, "us-east")
    promote = next(s for s in outcome.steps if s.name == "promote")
    assert removed == []
    assert promote.detail == f"failover_global_cluster to {west.db_cluster_id} already failing-over; waited for it"
    assert (outcome.action, run.writer()) == ("failed-over", "eu-west")


@pytest.mark.parametrize("status", ["pending", "failing-over", "switching-over", "cancelling"])
def test_no_detach_while_another_operation_runs_on_the_global_cluster(world, status):
    from infra.ops.database import DatabaseError

    run = world()
    _failover_answers(run, _client_error("InvalidGlobalClusterStateFault"))
    other = run.region("ap-se").db_cluster_arn
    _failover_state(run, status, other)
    removed = _removed(run)
    with pytest.raises(DatabaseError, match=f"managed failover refused \\(InvalidGlobalClusterStateFault\\) while "
                                            f"{status} to {other} runs on .*; nothing detached"):
        _lose(run, "us-east")
    assert removed == [] and run.writer() == "us-east"


def test_an_unreadable_global_cluster_is_never_detached(world):
    from infra.ops.database import DatabaseError

    run = world()
    _failover_answers(run, _client_error("InvalidGlobalClusterStateFault"))

    def throttled(**_):
        raise _client_error("Throttling", "DescribeGlobalClusters")

    run.clients("rds", "eu-west-1").meta.events.register_first("before-call.rds.DescribeGlobalClusters", throttled)
    removed = _removed(run)
    with pytest.raises(DatabaseError, match="cannot tell whether a failover is already running"):
        _lose(run, "us-east")
    assert removed == []


@pytest.mark.parametrize("code", ["GlobalClusterNotFoundFault", "DBClusterNotFoundFault"])
def test_an_unknown_identifier_fails_at_once(world, code):
    from infra.ops.database import DatabaseError

    run = world()
    attempts = _failover_answers(run, _client_error(code))
    removed = _removed(run)
    with pytest.raises(DatabaseError, match=f": {code}; nothing detached"):
        _lose(run, "us-east")
    assert len(attempts) == 1 and removed == []


def _rds_postgres_pair(security_group_ids=()):
    """Inside mock_aws: an rds-postgres primary in us-east-1 and its read replica in eu-west-1,
    their region records, and a clients function routing each service and region to moto."""
    east, west = boto3.client("rds", "us-east-1"), boto3.client("rds", "eu-west-1")
    ec2 = boto3.client("ec2", "us-east-1")
    source = east.create_db_instance(DBInstanceIdentifier="hse-us-east-db", Engine="postgres",
                                     DBInstanceClass="db.r6g.large", MasterUsername="hse_admin",
                                     MasterUserPassword="password-123", AllocatedStorage=100,
                                     VpcSecurityGroupIds=list(security_group_ids))["DBInstance"]
    west.create_db_instance_read_replica(DBInstanceIdentifier="hse-eu-west-db",
                                         SourceDBInstanceIdentifier=source["DBInstanceArn"])
    base = dict(deploy_order=0, db_engine="rds-postgres", db_global_cluster_id="", health_check_id="hc",
                regional_endpoint="e", hosted_zone_id="Z", domain="d", app_instance_count=3,
                eks_cluster_name="c", eks_node_group_name="n", alarm_topic_arn="t")
    primary = RegionRecord(stack="us-east", aws_region="us-east-1", role="primary", db_cluster_id="hse-us-east-db",
                           db_cluster_arn=source["DBInstanceArn"], **base)
    replica = RegionRecord(stack="eu-west", aws_region="eu-west-1", role="secondary",
                           db_cluster_id="hse-eu-west-db", db_cluster_arn="arn:replica",
                           **{**base, "deploy_order": 1})
    clients = lambda service, region: (west if (service, region) == ("rds", "eu-west-1")  # noqa: E731
                                       else ec2 if service == "ec2" else east)
    return east, west, primary, replica, clients


def test_rds_postgres_promotes_the_read_replica():
    from moto import mock_aws

    with mock_aws():
        _, west, primary, replica, clients = _rds_postgres_pair()
        calls = []
        west.meta.events.register("before-parameter-build.rds.PromoteReadReplica",
                                  lambda params, **_: calls.append(dict(params)))
        promotion = Database(clients, Platform.of([primary, replica]), ModelClock()).promote(primary, replica)
        assert promotion.method == "promote-read-replica"
        assert promotion.detail.startswith("promoted read replica hse-eu-west-db; old primary hse-us-east-db ")
        # moto keeps the source's name on a promoted replica, so the call itself is what is checked.
        assert calls == [{"DBInstanceIdentifier": "hse-eu-west-db", "BackupRetentionPeriod": 30}]


def test_rds_postgres_fences_the_old_primary_instance_after_promoting():
    from moto import mock_aws

    with mock_aws():
        ec2 = boto3.client("ec2", "us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        group = ec2.create_security_group(GroupName="hse-db", Description="db", VpcId=vpc)["GroupId"]
        default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                        {"Name": "group-name", "Values": ["default"]}])
        default_id = default["SecurityGroups"][0]["GroupId"]
        east, _, primary, replica, clients = _rds_postgres_pair([group])
        before = east.describe_db_instances(DBInstanceIdentifier="hse-us-east-db")["DBInstances"][0]
        assert [g["VpcSecurityGroupId"] for g in before["VpcSecurityGroups"]] == [group]
        promotion = Database(clients, Platform.of([primary, replica]), ModelClock()).promote(primary, replica)
        assert promotion.detail.endswith(f"old primary hse-us-east-db fenced (only {default_id}, {vpc}'s default "
                                         "group, which admits nothing)")
        groups = east.describe_db_instances(DBInstanceIdentifier="hse-us-east-db")["DBInstances"][0]
        assert [g["VpcSecurityGroupId"] for g in groups["VpcSecurityGroups"]] == [default_id]


def test_dry_run_changes_nothing(world):
    run = world()
    outcome = _lose(run, "us-east", dry_run=True)
    assert (outcome.action, outcome.code) == ("dry-run", 0)
    assert [s.name for s in outcome.steps] == ["detect", "decide", "promote", "dns", "cache", "scale"]
    assert run.writer() == "us-east"
    assert run.store.state(run.platform).mode == "normal"
    assert run.store.events() == []
    assert run.nodes("eu-west") == 3
    assert run.emulation.calls == []


def test_a_held_lock_makes_a_trigger_harmless_until_its_lease_ends(world):
    run = world()
    assert run.store.acquire("failback") is not None
    run.clock.advance(LOCK_LEASE_SECONDS)
    held = _lose(run, "us-east")
    assert (held.action, run.writer()) == ("noop", "us-east")
    assert held.detail == "failback is already running; this trigger changes nothing"
    run.clock.advance(1)
    assert _lose(run, "us-east").action == "failed-over"


def test_hold_down_both_sides_of_the_bound(world):
    run = world()
    _lose(run, "us-east")
    run.recover("us-east")
    run.clock.advance(599)
    inside = _lose(run, "eu-west", hold_down_seconds=600)
    assert (inside.action, inside.code, run.writer()) == ("suppressed", 1, "eu-west")
    run.clock.advance(1)
    outside = _lose(run, "eu-west", hold_down_seconds=600)
    assert (outside.action, outside.code) == ("failed-over", 0)
    assert run.writer() == "us-east"


def test_losing_a_secondary_promotes_nothing_and_notifies_the_primary(world):
    run = world()
    outcome = _lose(run, "ap-se")
    assert (outcome.action, run.writer()) == ("recorded", "us-east")
    assert run.store.health("ap-se")["healthy"] is False
    assert len(run.notifications("us-east")) == 1


def test_ok_signal_records_recovery_and_when(world):
    run = world()
    _lose(run, "ap-se")
    run.clock.advance(42)
    run.set_health("ap-se", True)
    outcome = _controller(run).handle(Signal("ap-se", "region", "OK", "test"))
    assert outcome.action == "recorded"
    assert run.store.health("ap-se") == {"pk": "REGION#ap-se", "sk": "HEALTH", "healthy": True,
                                         "since": run.clock.now(), "updated_at": run.clock.now()}


def test_cache_failover_moves_the_global_datastore(world, staging_views):
    run = world(staging_views)
    outcome = _controller(run).handle(Signal("us-east", "cache", "ALARM", "test"))
    global_id = run.platform.original_primary.cache_global_datastore_id
    assert outcome.action == "failed-over"
    assert {r: role for r, (_, role) in run.emulation.datastores[global_id].members.items()} == {
        "us-east-1": "SECONDARY", "eu-west-1": "PRIMARY", "ap-southeast-1": "SECONDARY"}
    assert run.writer() == "us-east"
