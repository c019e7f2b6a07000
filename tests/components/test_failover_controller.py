"""The failover controller and the registration, planned by the offline engine in a
small program of their own (the platform program wires them with the workloads tier)."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from components.failover_controller import FailoverController, FailoverControllerArgs, FisTargets
from components.failover_registration import FailoverRegistration, FailoverRegistrationArgs
from infra.engine import Engine
from infra.domain.failover_package import lambda_files
from infra.domain.failover_permissions import CALLS
from infra.ops.state import decode

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
KEYS = {r: f"arn:aws:kms:{r}:{ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef"
        for r in ("us-east-1", "eu-west-1", "ap-southeast-1")}


def _program(home_region: str):
    def program(project_dir: Path) -> None:
        home = aws.Provider("home", region=home_region)
        east = aws.Provider("east", region="us-east-1")
        code = pulumi.AssetArchive({path: pulumi.FileAsset(str(file)) for path, file in lambda_files(ROOT).items()})
        controller = FailoverController("hse-failover", FailoverControllerArgs(
            name_prefix="hse-production", home_region=home_region,
            replica_regions=[r for r in KEYS if r != home_region], account_id=ACCOUNT, kms_key_arns=KEYS, code=code,
            event_provider=east, primary_region="us-east-1", global_cluster_id="hse-production-us-east-global",
            zone_id="Z0123456789ABCDEFGHIJ",
            fis=FisTargets(app_subnet_arns=[f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-0a"],
                           data_subnet_arns=[f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-0b"],
                           cache_replication_group_arn=f"arn:aws:elasticache:us-east-1:{ACCOUNT}:replicationgroup:hse-us-east-cache",
                           cache_zone_id="use1-az1"),
            tags={"project": "hse-digital"}), pulumi.ResourceOptions(providers=[home]))
        FailoverRegistration("hse-us-east-failover", FailoverRegistrationArgs(
            table_name=controller.table_name, app_instance_count=5, outputs={
                "stack": "us-east", "awsRegion": "us-east-1", "role": "primary", "deployOrder": 0,
                "accountId": ACCOUNT, "dbEngine": "aurora-postgresql", "dbClusterId": "hse-us-east-db",
                "dbClusterArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:hse-us-east-db",
                "dbGlobalClusterId": "hse-production-us-east-global", "healthCheckId": "hc-1",
                "regionalEndpoint": "us-east.example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ",
                "domain": "example.com", "eksClusterName": "hse-us-east-eks", "eksNodeGroupName": "hse-us-east-nodes",
                "alarmTopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:hse-us-east-alarms"}),
            pulumi.ResourceOptions(providers=[east]))
        pulumi.export("table", controller.table_name)
    return program


@pytest.fixture(scope="module")
def plan():
    return Engine(ROOT, program=_program("eu-west-1"), use_cache=False).plan("us-east")


@pytest.fixture(scope="module")
def same_region_plan():
    return Engine(ROOT, program=_program("us-east-1"), use_cache=False).plan("us-east")


def _region(plan, resource) -> str:
    return resource.outputs["region"]


def test_function_is_python312_with_one_concurrent_run_and_a_dead_letter_queue(plan):
    function = plan.single("aws:lambda/function:Function")
    assert function.inputs["runtime"] == "python3.12"
    assert function.inputs["handler"] == "functions.failover.handler.lambda_handler"
    assert function.inputs["reservedConcurrentExecutions"] == 1
    assert function.inputs["timeout"] == 900
    queue = plan.single("aws:sqs/queue:Queue")
    assert function.inputs["deadLetterConfig"]["targetArn"] == queue.outputs["arn"]
    assert function.inputs["environment"]["variables"]["HSE_STATE_TABLE"] == "hse-production-failover-state"
    assert _region(plan, function) == "eu-west-1"


def test_state_table_is_encrypted_with_pitr_and_replicated_everywhere(plan):
    table = plan.single("aws:dynamodb/table:Table")
    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KEYS["eu-west-1"]}
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert sorted(r["regionName"] for r in table.inputs["replicas"]) == ["ap-southeast-1", "us-east-1"]
    assert all(r["pointInTimeRecovery"] and r["kmsKeyArn"] == KEYS[r["regionName"]] for r in table.inputs["replicas"])
    assert (table.inputs["hashKey"], table.inputs["rangeKey"]) == ("pk", "sk")
    # Timeline events expire (the attribute infra/ops/state.py writes on every event).
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}


def test_role_allows_exactly_the_calls_the_controller_makes(plan):
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "hse-failover-policy").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    operational = {a for a in actions if not a.startswith(("logs:", "sqs:", "kms:"))}
    assert operational == set(CALLS.values())
    wildcard = [s["Sid"] for s in policy["Statement"] if s["Resource"] == "*"]
    # EC2 describes and CloudWatch have no resource-level permissions.
    assert wildcard == ["FenceGroups", "Metrics", "FailoverEventMetric"]
    dns = next(s for s in policy["Statement"] if s["Sid"] == "Dns")
    assert dns["Resource"] == ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"]


def test_health_alarm_events_are_taken_in_us_east_1_and_forwarded_home(plan):
    rules = {r.inputs["name"]: r for r in plan.find("aws:cloudwatch/eventRule:EventRule")}
    assert _region(plan, rules["hse-production-failover-health"]) == "us-east-1"
    assert _region(plan, rules["hse-production-failover-health-forwarded"]) == "eu-west-1"
    pattern = json.loads(rules["hse-production-failover-health"].inputs["eventPattern"])
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    targets = plan.find("aws:cloudwatch/eventTarget:EventTarget")
    arns = sorted(t.inputs["arn"] for t in targets)
    assert arns.count("arn:aws:events:eu-west-1:111122223333:event-bus/default") == 2
    assert len(plan.find("aws:lambda/permission:Permission")) == 3  # two forwarded rules and the watchdog


def test_the_watchdog_ticks_from_the_home_region_without_us_east_1(plan):
    rule = next(r for r in plan.find("aws:cloudwatch/eventRule:EventRule")
                if r.inputs["name"] == "hse-production-failover-watchdog")
    assert (_region(plan, rule), rule.inputs["scheduleExpression"]) == ("eu-west-1", "rate(1 minute)")
    function = plan.single("aws:lambda/function:Function")
    (target,) = [t for t in plan.find("aws:cloudwatch/eventTarget:EventTarget") if t.inputs["rule"] == rule.outputs["name"]]
    assert target.inputs["arn"] == function.outputs["arn"]
    assert json.loads(target.inputs["input"]) == {"source": "hse.watchdog", "detail-type": "HSE Watchdog Tick",
                                                  "detail": {}}
    permission = next(p for p in plan.find("aws:lambda/permission:Permission")
                      if p.inputs["sourceArn"] == rule.outputs["arn"])
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert function.inputs["environment"]["variables"]["HSE_WATCHDOG_THRESHOLD"] == "3"


def test_in_us_east_1_the_rules_invoke_the_function_directly(same_region_plan):
    rules = same_region_plan.find("aws:cloudwatch/eventRule:EventRule")
    assert sorted(r.inputs["name"] for r in rules) == ["hse-production-failover-health", "hse-production-failover-rds",
                                                       "hse-production-failover-watchdog"]
    function = same_region_plan.single("aws:lambda/function:Function")
    assert {t.inputs["arn"] for t in same_region_plan.find("aws:cloudwatch/eventTarget:EventTarget")} == {
        function.outputs["arn"]}


def test_fis_templates_are_disarmed_by_a_stop_condition_and_never_scheduled(plan):
    templates = plan.find("aws:fis/experimentTemplate:ExperimentTemplate")
    assert sorted(t.inputs["tags"]["Name"] for t in templates) == [
        "hse-production-drill-database-only", "hse-production-drill-flapping", "hse-production-drill-redis",
        "hse-production-drill-region-loss"]
    alarm = next(a for a in plan.find("aws:cloudwatch/metricAlarm:MetricAlarm")
                 if a.inputs["name"] == "hse-production-fis-disarmed")
    assert (alarm.inputs["treatMissingData"], alarm.inputs["metricName"]) == ("breaching", "FisArmed")
    assert all(t.inputs["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": alarm.outputs["arn"]}]
               for t in templates)
    assert not plan.find("aws:scheduler/schedule:Schedule")


def test_registration_writes_the_region_record(plan):
    item = plan.single("aws:dynamodb/tableItem:TableItem")
    assert item.inputs["tableName"] == "hse-production-failover-state"
    record = decode(json.loads(item.inputs["item"]))
    assert (record["pk"], record["sk"], record["eks_node_group_name"], record["app_instance_count"]) == (
        "TOPOLOGY", "us-east", "hse-us-east-nodes", 5)


def test_children_have_the_component_as_parent(plan):
    component = plan.single("hse:ops:FailoverController")
    children = plan.children(component.urn)
    assert len(children) >= 15


def test_a_primary_outside_us_east_1_is_refused():
    with pytest.raises(ValueError, match="us-east-1"):
        FailoverController("x", _args_with_primary("eu-west-1"))


def _args_with_primary(region: str) -> FailoverControllerArgs:
    return FailoverControllerArgs(
        name_prefix="hse-production", home_region="eu-west-1", replica_regions=[], account_id=ACCOUNT,
        kms_key_arns=KEYS, code=None, event_provider=None, primary_region=region, global_cluster_id="g",
        zone_id="Z", fis=FisTargets([], [], "arn", "euw1-az1"))
