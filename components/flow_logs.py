"""VPC flow logs: every accepted and rejected flow of the VPC, kept in CloudWatch Logs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy


@dataclass(frozen=True)
class FlowLogsArgs:
    """Inputs of `FlowLogs`."""

    vpc_id: pulumi.Input[str]
    """The VPC whose traffic is logged."""
    account_id: str
    """The account the log delivery role trusts (confused-deputy guard)."""
    retention_days: int
    """How long CloudWatch keeps the flow log records."""
    log_group_prefix: str
    """Start of the log group's name, e.g. `/hse/production/us-east/`; AWS appends a unique suffix."""
    kms_key_arn: pulumi.Input[str]
    """The regional key the log group is encrypted with."""


# Actions VPC Flow Logs needs to deliver into one log group. DescribeLogGroups is a
# list call that IAM only authorizes on "*"; everything else is scoped to the group.
DELIVERY_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
LIST_ACTIONS = ("logs:DescribeLogGroups",)


def _delivery_policy(log_group_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DeliverToTheFlowLogGroup", "Effect": "Allow", "Action": list(DELIVERY_ACTIONS),
             "Resource": [log_group_arn, f"{log_group_arn}:*"]},
            {"Sid": "ListLogGroups", "Effect": "Allow", "Action": list(LIST_ACTIONS), "Resource": "*"},
        ],
    })


class FlowLogs(pulumi.ComponentResource):
    """A log group, the role VPC Flow Logs delivers with, and the flow log itself."""

    log_group_name: pulumi.Output[str]
    flow_log_id: pulumi.Output[str]

    def __init__(self, name: str, args: FlowLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:network:FlowLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Physical names are generated (a prefix plus a unique suffix): a replacement is
        # created before the old resource is deleted and must not collide with it, and
        # two environments in one account never share a name.
        group = aws.cloudwatch.LogGroup(
            f"{name}-group",
            name_prefix=f"{args.log_group_prefix}vpc-flow-logs-",
            retention_in_days=args.retention_days,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust_policy("vpc-flow-logs.amazonaws.com", args.account_id),
            opts=child,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-delivery",
            role=role.id,
            policy=group.arn.apply(_delivery_policy),
            opts=child,
        )
        # The role is useless to VPC Flow Logs until its policy exists: wait for both.
        flow_log = aws.ec2.FlowLog(
            f"{name}-vpc",
            vpc_id=args.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{name}-vpc"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),
        )

        self.log_group_name = group.name
        self.flow_log_id = flow_log.id
        self.register_outputs({"logGroupName": self.log_group_name, "flowLogId": self.flow_log_id})
