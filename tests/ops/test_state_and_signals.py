"""The state store's reader (what the application's endpoints answer), the event
parsing, and the Lambda's entry point on moto."""

from __future__ import annotations

import json

import pytest

from functions.failover import handler
from infra.ops.signals import SignalError, alarm_event, parse, rds_failure_event
from infra.ops.state import StateReader


def test_reader_answers_failover_and_regions_status(world):
    run = world()
    run.lose("us-east")
    reader = StateReader(run.store)
    status = reader.failover_status()
    assert (status["mode"], status["currentPrimary"], status["originalPrimary"], status["failedRegion"],
            status["operationInProgress"]) == ("failed-over", "eu-west", "us-east", "us-east", "")
    assert [e["step"] for e in status["events"]] == ["detect", "decide", "promote", "dns", "cache", "scale",
                                                     "reconnect", "notify"]
    regions = {r["stack"]: r for r in reader.regions_status()["regions"]}
    assert (regions["us-east"]["role"], regions["us-east"]["healthy"]) == ("secondary", False)
    assert (regions["eu-west"]["role"], regions["eu-west"]["appInstances"]) == ("primary", 5)
    assert (regions["ap-se"]["healthy"], regions["ap-se"]["appInstances"]) == (True, 3)


def test_reader_in_normal_operation(world):
    run = world()
    status = StateReader(run.store).failover_status()
    assert (status["mode"], status["currentPrimary"], status["events"]) == ("normal", "us-east", [])


def _small_pages(run, page_size: int):
    """The same table read through a store whose Query pages hold `page_size` items (and any Scan recorded)."""
    from infra.ops.state import StateStore

    pages = []
    store = StateStore(run.clients, run.store.region, run.store.table, run.clock, page_size=page_size)
    for op in ("Query", "Scan"):
        store.db.meta.events.register(f"after-call.dynamodb.{op}",
                                      lambda parsed, model, **_: pages.append((model.name, len(parsed["Items"]))))
    return store, pages


def test_every_region_is_found_across_query_pages_of_one_partition_and_nothing_is_scanned(world):
    run = world()
    for i in range(12):  # events fill the table around the topology items
        run.store.record_event("test", "filler", f"event {i}")
    store, pages = _small_pages(run, 2)
    assert sorted(r.stack for r in store.platform().regions) == ["ap-se", "eu-west", "us-east"]
    # 3 registrations at 2 a page: 2 pages of the TOPOLOGY partition; the events are never read.
    assert pages == [("Query", 2), ("Query", 1)]
    pages.clear()
    StateReader(store).regions_status()
    assert {op for op, _ in pages} == {"Query"}  # the app's role may Query, not Scan


def test_the_platform_is_what_the_apps_role_may_read(plans):
    """`/api/regions/status` reads the platform with the app's own role: every call it makes is granted."""
    import json as _json

    policy = _json.loads(plans["eu-west"].one("aws:iam/rolePolicy:RolePolicy", "hse-eu-west-app-identity-policy")
                         .input("policy"))
    state = next(s for s in policy["Statement"] if s["Sid"] == "ReadTheFailoverState")
    assert state["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]


def test_the_timeline_is_read_across_query_pages_and_the_last_events_newest_first(world):
    run = world()
    for i in range(7):
        run.clock.advance(1)
        run.store.record_event("test", "step", f"event {i}")
    store, pages = _small_pages(run, 3)
    assert [e["detail"] for e in store.events()] == [f"event {i}" for i in range(7)]
    assert [n for _, n in pages] == [3, 3, 1]
    pages.clear()
    assert [e["detail"] for e in store.events(last=4)] == ["event 3", "event 4", "event 5", "event 6"]
    assert [n for _, n in pages] == [3, 1]  # only the newest pages
    assert store.events(last=0) == []
    status = StateReader(store).failover_status(last=2)
    assert [e["detail"] for e in status["events"]] == ["event 5", "event 6"]


def test_events_expire_after_90_days_and_nothing_else_does(world):
    from infra.domain.failover_state import EVENT_RETENTION_DAYS, event_expiry

    run = world()
    run.lose("us-east")
    now = int(run.clock.now())
    assert EVENT_RETENTION_DAYS == 90 and event_expiry(now) == now + 7_776_000
    events = run.store.query("EVENTS")
    assert events and {e["expiresAt"] for e in events} == {now + 7_776_000}
    assert all("expiresAt" not in i for pk in ("PLATFORM", "REGION#us-east", "REGION#eu-west")
               for i in run.store.query(pk))
    ttl = run.clients("dynamodb", run.store.region).describe_time_to_live(TableName=run.store.table)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_eventbridge_sns_and_rds_events_parse(platform):
    east = platform.region("us-east")
    signal = parse(alarm_event("hse-us-east-dns-health-alarm", "ALARM", east.health_check_id), platform)
    assert (signal.stack, signal.component, signal.state, signal.operator) == ("us-east", "region", "ALARM", False)
    sns = {"Records": [{"Sns": {"Message": json.dumps({
        "AlarmName": "a", "NewStateValue": "OK", "Trigger": {
            "Namespace": "AWS/Route53", "MetricName": "HealthCheckStatus",
            "Dimensions": [{"name": "HealthCheckId", "value": platform.region("ap-se").health_check_id}]}})}}]}
    signal = parse(sns, platform)
    assert (signal.stack, signal.component, signal.state) == ("ap-se", "region", "OK")
    database = parse(rds_failure_event(east.db_cluster_id, east.aws_region), platform)
    assert (database.stack, database.component) == ("us-east", "database")


@pytest.mark.parametrize("event, message", [
    ({"detail-type": "EC2 Instance State-change Notification"}, "unsupported event"),
    ({"Records": [{"Sns": {"Message": "not json"}}]}, "an SNS event without an alarm notification"),
    (alarm_event("x", "ALARM", "no-such-check"), "its health check belongs to no region"),
    (alarm_event("x", "INSUFFICIENT_DATA", "no-such-check"), "neither ALARM nor OK"),
])
def test_foreign_events_are_clear_errors(platform, event, message):
    with pytest.raises(SignalError, match=message):
        parse(event, platform)


def test_cpu_alarm_and_non_failure_rds_event_do_not_trigger(platform):
    cpu = alarm_event("hse-us-east-db-cpu", "ALARM", "x")
    cpu["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"].update(namespace="AWS/RDS",
                                                                                 name="CPUUtilization")
    with pytest.raises(SignalError, match="not a region health-check alarm"):
        parse(cpu, platform)
    event = rds_failure_event(platform.region("us-east").db_cluster_id, "us-east-1")
    event["detail"]["EventCategories"] = ["backup"]
    with pytest.raises(SignalError, match=r"\(backup\) is not a failure"):
        parse(event, platform)


def test_lambda_handler_fails_over_and_ignores_foreign_events(world, monkeypatch):
    run = world()
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("HSE_STATE_TABLE", "hse-test-state")
    monkeypatch.setattr(handler, "Clients", lambda: run.clients)
    run.set_health("us-east", False)
    result = handler.lambda_handler(run.event("us-east", False), None)
    assert (result["action"], result["target"], result["code"]) == ("failed-over", "eu-west", 0)
    assert [s["step"] for s in result["steps"]][:3] == ["detect", "decide", "promote"]
    ignored = handler.lambda_handler({"detail-type": "Something Else"}, None)
    assert (ignored["action"], ignored["code"]) == ("ignored", 0)
    again = handler.lambda_handler(run.event("us-east", False), None)
    assert again["action"] == "noop"


@pytest.mark.parametrize("action,code,done", [
    ("ignored", 0, True), ("noop", 0, True), ("recorded", 0, True), ("failed-over", 0, True), ("dry-run", 0, True),
    ("suppressed", 1, True),           # escalated to operators on SNS already
    ("noop", 1, False),                # no healthy region to promote: retried, then dead-lettered
    ("failed-over", 1, False), ("rolled-back", 1, False), ("not-ready", 3, False), ("something-new", 0, False),
])
def test_unexpected_outcomes_are_retried_then_dead_lettered(monkeypatch, action, code, done):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("HSE_STATE_TABLE", "hse-test-state")
    monkeypatch.setattr(handler, "Clients", lambda: None)
    monkeypatch.setattr(handler, "StateStore", lambda *args: None)
    result = {"action": action, "code": code, "detail": "d"}
    monkeypatch.setattr(handler, "handle", lambda *args: result)
    assert handler.finished(result) is done
    if done:
        assert handler.lambda_handler({}, None) is result
    else:
        with pytest.raises(RuntimeError, match=f"failover controller: {action} \\(code {code}\\): d"):
            handler.lambda_handler({}, None)


def test_an_error_inside_the_controller_is_not_swallowed(monkeypatch):
    from infra.ops.database import DatabaseError

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("HSE_STATE_TABLE", "hse-test-state")
    monkeypatch.setattr(handler, "Clients", lambda: None)
    monkeypatch.setattr(handler, "StateStore", lambda *args: None)

    def fail(*args):
        raise DatabaseError("failover_global_cluster failed 3 times")

    monkeypatch.setattr(handler, "handle", fail)
    with pytest.raises(DatabaseError):
        handler.lambda_handler({}, None)


def test_a_routine_ok_notification_is_not_a_failure(world, monkeypatch):
    run = world()
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("HSE_STATE_TABLE", "hse-test-state")
    monkeypatch.setattr(handler, "Clients", lambda: run.clients)
    sns_ok = {"Records": [{"Sns": {"Message": json.dumps({
        "AlarmName": run.s.alarms["us-east"], "NewStateValue": "OK", "Trigger": {
            "Namespace": "AWS/Route53", "MetricName": "HealthCheckStatus",
            "Dimensions": [{"name": "HealthCheckId", "value": run.region("us-east").health_check_id}]}})}}]}
    for event in (run.event("us-east", True), sns_ok):
        result = handler.lambda_handler(event, None)
        assert (result["action"], result["code"], result["target"]) == ("recorded", 0, "")
        assert result["detail"].startswith("us-east region recovered")
    assert run.writer() == "us-east" and run.emulation.calls == []
    assert run.store.state(run.platform).mode == "normal"
    assert run.notifications("us-east") == [] and run.failover_events("eu-west") == 0


def test_settings_from_the_environment():
    settings = handler.settings_from_env({"HSE_HOLD_DOWN_SECONDS": "600", "HSE_DETECTION_SECONDS": "30",
                                          "HSE_DNS_TTL_SECONDS": "30", "HSE_RPO_SECONDS": "45", "HSE_DRY_RUN": "TRUE"})
    assert (settings.hold_down_seconds, settings.detection_seconds, settings.dns_ttl_seconds, settings.rpo_seconds,
            settings.dry_run) == (600, 30, 30, 45, True)
    assert settings.watchdog_threshold == 3
    assert handler.settings_from_env({"HSE_WATCHDOG_THRESHOLD": "5"}).watchdog_threshold == 5
