"""The failover controller's IAM policy: only the API calls it makes, each scoped to the
platform's resources where the service supports resource-level permissions.

`CALLS` maps every boto3 method the Lambda's code calls to its IAM action; a test
checks the mapping against the packaged source both ways, so a new call cannot ship
without its permission, nor a permission outlive its call.
"""

from __future__ import annotations

import json
from typing import Any

CALLS: dict[str, str] = {
    # rds
    "describe_global_clusters": "rds:DescribeGlobalClusters",
    "describe_db_instances": "rds:DescribeDBInstances",
    "failover_global_cluster": "rds:FailoverGlobalCluster",
    "switchover_global_cluster": "rds:SwitchoverGlobalCluster",
    "remove_from_global_cluster": "rds:RemoveFromGlobalCluster",
    "promote_read_replica": "rds:PromoteReadReplica",
    "describe_db_clusters": "rds:DescribeDBClusters",
    "modify_db_cluster": "rds:ModifyDBCluster",
    "modify_db_instance": "rds:ModifyDBInstance",
    # ec2 (fencing the old primary after a detach or a promoted replica: its VPC's default group)
    "describe_security_groups": "ec2:DescribeSecurityGroups",
    # elasticache
    "describe_global_replication_groups": "elasticache:DescribeGlobalReplicationGroups",
    "failover_global_replication_group": "elasticache:FailoverGlobalReplicationGroup",
    # eks
    "describe_nodegroup": "eks:DescribeNodegroup",
    "update_nodegroup_config": "eks:UpdateNodegroupConfig",
    # route53
    "list_resource_record_sets": "route53:ListResourceRecordSets",
    "change_resource_record_sets": "route53:ChangeResourceRecordSets",
    # cloudwatch
    "describe_alarms_for_metric": "cloudwatch:DescribeAlarmsForMetric",
    "get_metric_statistics": "cloudwatch:GetMetricStatistics",
    "put_metric_data": "cloudwatch:PutMetricData",
    # sns
    "publish": "sns:Publish",
    # dynamodb (the state store)
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
}


def _any_region(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:3] + ["*"] + parts[4:])


def controller_policy(*, account_id: str, table_arn: str, global_cluster_id: str, zone_id: str,
                      dead_letter_arn: str, log_group_arn: str, kms_key_arn: str,
                      metric_namespace: str = "HSE/Platform") -> str:
    """The inline policy document (plain values: call it inside `Output.all(...).apply`)."""
    a = account_id
    table_arns = [table_arn, _any_region(table_arn)]
    statements: list[dict[str, Any]] = [
        {"Sid": "StateStore", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
         "Resource": table_arns},
        {"Sid": "GlobalDatabase", "Effect": "Allow",
         "Action": ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster", "rds:RemoveFromGlobalCluster",
                    "rds:DescribeGlobalClusters"],
         "Resource": [f"arn:aws:rds::{a}:global-cluster:{global_cluster_id}", f"arn:aws:rds:*:{a}:cluster:hse-*"]},
        # After a detach-and-promote the old primary is fenced: only its VPC's default group (no rules).
        {"Sid": "FenceOldPrimary", "Effect": "Allow", "Action": ["rds:DescribeDBClusters", "rds:ModifyDBCluster"],
         "Resource": [f"arn:aws:rds:*:{a}:cluster:hse-*"]},
        {"Sid": "FenceGroups", "Effect": "Allow", "Action": "ec2:DescribeSecurityGroups", "Resource": "*"},
        # RDS PostgreSQL: promote a read replica, then fence the old primary's instance the same way.
        {"Sid": "ReadReplicas", "Effect": "Allow",
         "Action": ["rds:PromoteReadReplica", "rds:DescribeDBInstances", "rds:ModifyDBInstance"],
         "Resource": [f"arn:aws:rds:*:{a}:db:hse-*"]},
        {"Sid": "GlobalDatastore", "Effect": "Allow",
         "Action": ["elasticache:FailoverGlobalReplicationGroup", "elasticache:DescribeGlobalReplicationGroups"],
         "Resource": [f"arn:aws:elasticache::{a}:globalreplicationgroup:*", f"arn:aws:elasticache:*:{a}:replicationgroup:hse-*"]},
        {"Sid": "NodeGroups", "Effect": "Allow", "Action": ["eks:DescribeNodegroup", "eks:UpdateNodegroupConfig"],
         "Resource": [f"arn:aws:eks:*:{a}:nodegroup/hse-*/*/*", f"arn:aws:eks:*:{a}:cluster/hse-*"]},
        {"Sid": "Dns", "Effect": "Allow",
         "Action": ["route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"],
         "Resource": [f"arn:aws:route53:::hostedzone/{zone_id}"]},
        # CloudWatch reads (and EC2 describes, above) have no resource-level permissions; the metric
        # write is held to one namespace.
        {"Sid": "Metrics", "Effect": "Allow",
         "Action": ["cloudwatch:DescribeAlarmsForMetric", "cloudwatch:GetMetricStatistics"],
         "Resource": "*"},
        {"Sid": "FailoverEventMetric", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": metric_namespace}}},
        {"Sid": "Notify", "Effect": "Allow", "Action": "sns:Publish", "Resource": f"arn:aws:sns:*:{a}:hse-*"},
        # The alarm topics are encrypted with the platform's multi-region key (one id in every region).
        {"Sid": "EncryptedTopics", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": _any_region(kms_key_arn), "Condition": {"StringLike": {"kms:ViaService": "sns.*.amazonaws.com"}}},
        {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dead_letter_arn},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
