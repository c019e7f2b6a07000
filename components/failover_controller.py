"""The failover controller, declared once for the platform: its Lambda function, its
least-privilege role, the state store, the event rules that trigger it, a dead-letter
queue, and the AWS FIS experiment templates of the DR drill's scenarios.

- **Where**: the function and the state table's home replica live in `home_region`;
  put it in a region other than the primary's, so losing the primary does not take the
  controller with it. The table is a DynamoDB global table with a replica in every
  other region of the platform (any region reads the state; the CLI works from any).
- **Trigger**: Route53 publishes health-check metrics in us-east-1 only, so every
  region's health alarm lives there, and CloudWatch emits alarm state changes as
  EventBridge events in the alarm's region. The rule therefore sits in us-east-1
  (`event_provider`); when the controller lives elsewhere, that rule forwards to the
  home region's default event bus, where a second rule invokes the function. A second
  pattern takes RDS failure events of the primary's clusters (a database-only failure).
- **Watchdog**: when us-east-1 itself is lost, so are the alarms and that rule. A schedule
  in the home region (`rate(1 minute)`) ticks the function, which then probes every
  region's health endpoint itself and fails the primary over after 3 failed ticks
  (`infra/ops/watchdog.py`; it does nothing while the alarms answer).
- **Idempotency**: reserved concurrency 1 (one invocation at a time) on top of the
  state store's lock; failed invocations go to the dead-letter queue after retries.
- **FIS, disabled by default**: a FIS template has no enabled flag. These have no
  schedule (nothing starts them), and their stop condition is the alarm
  `<prefix>-fis-disarmed`, which is in ALARM whenever the metric `HSE/Platform FisArmed`
  has no datapoint (missing data breaches): an experiment started without arming stops
  at once. An operator arms a game day by publishing `FisArmed=1` each minute for its
  duration (docs/runbooks/failover.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from infra.domain.failover_package import HANDLER_NAME

STOP_CONDITION_TAG = "hse:stop-condition"
"""Tags an alarm that only stops experiments (it notifies no one)."""
from infra.domain.failover_permissions import controller_policy
from infra.domain.failover_state import TTL_ATTRIBUTE, table_definition
from infra.domain.rto import WATCHDOG_EVENT, WATCHDOG_SCHEDULE, WATCHDOG_THRESHOLD

FIS_METRIC = "FisArmed"
LOG_RETENTION_DAYS = 365


@dataclass(frozen=True)
class FisTargets:
    """What the chaos experiments act on: the primary region's resources (in `event_provider`'s region)."""

    app_subnet_arns: Sequence[pulumi.Input[str]]
    data_subnet_arns: Sequence[pulumi.Input[str]]
    cache_replication_group_arn: pulumi.Input[str]
    cache_zone_id: str
    """The availability zone id (e.g. use1-az1) whose power the Redis experiment interrupts."""


@dataclass(frozen=True)
class FailoverControllerArgs:
    """Inputs of `FailoverController`."""

    name_prefix: str
    """Start of every physical name, e.g. `hse-production`."""
    home_region: str
    """Where the function and the table's home replica live (not the primary's region)."""
    replica_regions: Sequence[str]
    """Every other region of the platform: the table replicates there."""
    account_id: str
    kms_key_arns: Mapping[str, pulumi.Input[str]]
    """Region -> the platform's key there: the table and its replicas are encrypted with it."""
    code: pulumi.Archive
    """The function's code (`infra.domain.failover_package.lambda_files`)."""
    event_provider: aws.Provider
    """us-east-1: where the health alarms and so their events are."""
    primary_region: str
    """The primary's region (us-east-1): its RDS failure events trigger a database-only failover."""
    global_cluster_id: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    fis: FisTargets
    hold_down_seconds: int = 900
    detection_seconds: int = 90
    dns_ttl_seconds: int = 60
    rpo_seconds: int = 60
    alarm_name_prefix: str = "hse-"
    """Health alarms the rule passes on (the controller ignores any that is not a health check)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class FailoverController(pulumi.ComponentResource):
    """The controller of one platform."""

    function_arn: pulumi.Output[str]
    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    dead_letter_arn: pulumi.Output[str]
    experiment_template_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: FailoverControllerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        if args.primary_region != "us-east-1":
            raise ValueError(f"FailoverController: the primary is in {args.primary_region}; its RDS events "
                             "are taken in us-east-1, where the health alarms are (move the rule with the primary)")
        super().__init__("hse:ops:FailoverController", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix
        same_region = args.home_region == "us-east-1"

        keys = table_definition(f"{prefix}-failover-state")
        table = aws.dynamodb.Table(
            f"{name}-state", name=keys["TableName"], billing_mode=keys["BillingMode"], hash_key="pk", range_key="sk",
            attributes=[{"name": d["AttributeName"], "type": d["AttributeType"]} for d in keys["AttributeDefinitions"]],
            server_side_encryption={"enabled": True, "kms_key_arn": args.kms_key_arns[args.home_region]},
            point_in_time_recovery={"enabled": True},
            # Timeline events carry `expiresAt` (90 days); nothing else does, so nothing else expires.
            ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
            # Global tables replicate through the table's stream.
            stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES", deletion_protection_enabled=True,
            replicas=[{"region_name": r, "kms_key_arn": args.kms_key_arns[r], "point_in_time_recovery": True,
                       "propagate_tags": True} for r in args.replica_regions],
            tags=dict(args.tags), opts=child)

        dead_letters = aws.sqs.Queue(f"{name}-dlq", name=f"{prefix}-failover-dlq", message_retention_seconds=1_209_600,
                                     sqs_managed_sse_enabled=True, tags=dict(args.tags), opts=child)
        function_name = f"{prefix}-failover-controller"
        logs = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/aws/lambda/{function_name}",
                                       retention_in_days=LOG_RETENTION_DAYS, kms_key_id=args.kms_key_arns[args.home_region],
                                       tags=dict(args.tags), opts=child)
        role = aws.iam.Role(f"{name}-role",
                            assume_role_policy=service_trust_policy("lambda.amazonaws.com", args.account_id),
                            tags=dict(args.tags), opts=child)
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.name, policy=pulumi.Output.all(
            table.arn, args.global_cluster_id, args.zone_id, dead_letters.arn, logs.arn,
            args.kms_key_arns[args.home_region]).apply(
            lambda v: controller_policy(account_id=args.account_id, table_arn=v[0], global_cluster_id=v[1],
                                        zone_id=v[2], dead_letter_arn=v[3], log_group_arn=v[4], kms_key_arn=v[5])),
            opts=child)
        function = aws.lambda_.Function(
            f"{name}-function", name=function_name, runtime="python3.12", handler=HANDLER_NAME, code=args.code,
            role=role.arn, timeout=900, memory_size=256, reserved_concurrent_executions=1,
            dead_letter_config={"target_arn": dead_letters.arn},
            environment={"variables": {
                "HSE_STATE_TABLE": table.name, "HSE_HOLD_DOWN_SECONDS": str(args.hold_down_seconds),
                "HSE_DETECTION_SECONDS": str(args.detection_seconds), "HSE_DNS_TTL_SECONDS": str(args.dns_ttl_seconds),
                "HSE_RPO_SECONDS": str(args.rpo_seconds), "HSE_WATCHDOG_THRESHOLD": str(WATCHDOG_THRESHOLD),
                "HSE_DRY_RUN": "false"}},
            logging_config={"log_format": "Text", "log_group": logs.name},
            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, logs]))
        aws.lambda_.FunctionEventInvokeConfig(f"{name}-retries", function_name=function.name,
                                              maximum_retry_attempts=2, maximum_event_age_in_seconds=3600,
                                              destination_config={"on_failure": {"destination": dead_letters.arn}},
                                              opts=child)

        health_pattern = json.dumps({"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
                                     "detail": {"alarmName": [{"prefix": args.alarm_name_prefix}]}})
        rds_pattern = json.dumps({"source": ["aws.rds"], "detail-type": ["RDS DB Cluster Event", "RDS DB Instance Event"],
                                  "detail": {"EventCategories": ["failure"]}})
        events = pulumi.ResourceOptions(parent=self, provider=args.event_provider)
        home_bus = f"arn:aws:events:{args.home_region}:{args.account_id}:event-bus/default"
        forward_role = None
        if not same_region:
            forward_role = aws.iam.Role(f"{name}-forward-role",
                                        assume_role_policy=service_trust_policy("events.amazonaws.com", args.account_id),
                                        tags=dict(args.tags), opts=child)
            aws.iam.RolePolicy(f"{name}-forward-policy", role=forward_role.name, policy=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents",
                                                        "Resource": home_bus}]}), opts=child)
        # Both sources are in us-east-1 (the health alarms always, the primary's RDS events by the
        # check above); a rule in the home region invokes the function, fed by forwarding when apart.
        for label, pattern in (("health", health_pattern), ("rds", rds_pattern)):
            rule = aws.cloudwatch.EventRule(f"{name}-{label}-rule", name=f"{prefix}-failover-{label}",
                                            description=f"{label} events that trigger the failover controller",
                                            event_pattern=pattern, tags=dict(args.tags), opts=events)
            if same_region:
                self._invoke(f"{name}-{label}", rule, function, events)
                continue
            aws.cloudwatch.EventTarget(f"{name}-{label}-forward", rule=rule.name, arn=home_bus,
                                       role_arn=forward_role.arn, opts=events)
            forwarded = aws.cloudwatch.EventRule(
                f"{name}-{label}-forwarded-rule", name=f"{prefix}-failover-{label}-forwarded",
                description=f"{label} events forwarded from us-east-1", event_pattern=pattern,
                tags=dict(args.tags), opts=child)
            self._invoke(f"{name}-{label}-forwarded", forwarded, function, child)

        # The watchdog: a tick every minute from the home region, independent of us-east-1.
        tick = aws.cloudwatch.EventRule(f"{name}-watchdog-rule", name=f"{prefix}-failover-watchdog",
                                        description="ticks the failover controller's watchdog (detection without "
                                                    "us-east-1)", schedule_expression=WATCHDOG_SCHEDULE,
                                        tags=dict(args.tags), opts=child)
        aws.cloudwatch.EventTarget(f"{name}-watchdog-target", rule=tick.name, arn=function.arn,
                                   input=json.dumps(WATCHDOG_EVENT), opts=child)
        aws.lambda_.Permission(f"{name}-watchdog-invoke", action="lambda:InvokeFunction", function=function.name,
                               principal="events.amazonaws.com", source_arn=tick.arn, opts=child)

        self.experiment_template_ids = self._experiments(name, args, events)
        self.function_arn = function.arn
        self.table_name = table.name
        self.table_arn = table.arn
        self.dead_letter_arn = dead_letters.arn
        self.register_outputs({"functionArn": function.arn, "tableName": table.name, "tableArn": table.arn,
                               "deadLetterArn": dead_letters.arn, "experimentTemplateIds": self.experiment_template_ids})

    def _invoke(self, name: str, rule: aws.cloudwatch.EventRule, function: aws.lambda_.Function,
                opts: pulumi.ResourceOptions) -> None:
        aws.cloudwatch.EventTarget(f"{name}-target", rule=rule.name, arn=function.arn, opts=opts)
        aws.lambda_.Permission(f"{name}-invoke", action="lambda:InvokeFunction", function=function.name,
                               principal="events.amazonaws.com", source_arn=rule.arn,
                               opts=pulumi.ResourceOptions(parent=self))

    def _experiments(self, name: str, args: FailoverControllerArgs,
                     opts: pulumi.ResourceOptions) -> dict[str, pulumi.Output[str]]:
        prefix = args.name_prefix
        disarmed = aws.cloudwatch.MetricAlarm(
            f"{name}-fis-disarmed", name=f"{prefix}-fis-disarmed",
            alarm_description="Stops every FIS experiment unless an operator arms it (HSE/Platform FisArmed = 1)",
            namespace="HSE/Platform", metric_name=FIS_METRIC, statistic="Maximum", period=60, evaluation_periods=1,
            comparison_operator="LessThanThreshold", threshold=1, treat_missing_data="breaching",
            # A stop condition, not a page: nobody is notified (the policy pack knows the tag).
            tags={**dict(args.tags), STOP_CONDITION_TAG: "fis"}, opts=opts)
        role = aws.iam.Role(f"{name}-fis-role",
                            assume_role_policy=service_trust_policy("fis.amazonaws.com", args.account_id),
                            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicyAttachment(f"{name}-fis-network", role=role.name,
                                     policy_arn="arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorNetworkAccess",
                                     opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicy(f"{name}-fis-cache", role=role.name, policy=pulumi.Output.from_input(
            args.fis.cache_replication_group_arn).apply(lambda arn: json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "elasticache:InterruptClusterAzPower", "Resource": arn},
                    {"Effect": "Allow", "Action": ["elasticache:DescribeReplicationGroups", "tag:GetResources"],
                     "Resource": "*"}]})), opts=pulumi.ResourceOptions(parent=self))

        def network(minutes: int, subnets: Sequence[pulumi.Input[str]]) -> tuple[list, list]:
            return ([{"name": "disrupt", "action_id": "aws:network:disrupt-connectivity",
                      "parameters": [{"key": "duration", "value": f"PT{minutes}M"}, {"key": "scope", "value": "all"}],
                      "target": {"key": "Subnets", "value": "subnets"}}],
                    [{"name": "subnets", "resource_type": "aws:ec2:subnet", "selection_mode": "ALL",
                      "resource_arns": list(subnets)}])

        scenarios = {
            "region-loss": ("the primary region loses its network (app and data tiers) for 15 minutes",
                            *network(15, [*args.fis.app_subnet_arns, *args.fis.data_subnet_arns])),
            "database-only": ("the primary's data subnets are cut off for 10 minutes",
                              *network(10, args.fis.data_subnet_arns)),
            "flapping": ("the primary's app subnets drop for 2 minutes: detected, then recovered",
                         *network(2, args.fis.app_subnet_arns)),
            "redis": ("the primary's Redis loses an availability zone's power for 10 minutes",
                      [{"name": "interrupt", "action_id": "aws:elasticache:replicationgroup-interrupt-az-power",
                        "parameters": [{"key": "duration", "value": "PT10M"}],
                        "target": {"key": "ReplicationGroups", "value": "groups"}}],
                      [{"name": "groups", "resource_type": "aws:elasticache:replicationgroup", "selection_mode": "ALL",
                        "resource_arns": [args.fis.cache_replication_group_arn],
                        "parameters": {"availabilityZoneIdentifier": args.fis.cache_zone_id}}]),
        }
        ids = {}
        for scenario, (description, actions, targets) in scenarios.items():
            template = aws.fis.ExperimentTemplate(
                f"{name}-fis-{scenario}", description=f"HSE drill ({scenario}): {description}; disarmed by default",
                role_arn=role.arn, stop_conditions=[{"source": "aws:cloudwatch:alarm", "value": disarmed.arn}],
                actions=actions, targets=targets, tags={**args.tags, "Name": f"{prefix}-drill-{scenario}"}, opts=opts)
            ids[scenario] = template.id
        return ids
