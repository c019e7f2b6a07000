"""The platform's customer-managed KMS keys: one multi-region key with a replica in every
region of the platform, each with its own region-scoped key policy.

Why one multi-region key rather than independent regional keys: the master credentials
are replicated by Secrets Manager from the primary into every region, and each replica
must be encrypted with a key that already exists in its region when the primary
deploys. The primary owns the global pieces, so it creates the key set for every region
in the stack files; a secondary uses its region's replica, read from the primary's
outputs. A replica has the same key material and key id as the primary key (so data
encrypted in one region can be decrypted in another after a failover), but its own
policy and alias. Rotation is set on the primary key and shared by its replicas.

Each key policy lets the account root administer the key and nothing else do so; the
services that encrypt with it (RDS, ElastiCache, Secrets Manager, AWS Backup, EKS, SNS,
SQS, DynamoDB, Lambda) may use it only through that service in that region, CloudWatch
Logs only for log groups of this account in that region, CloudWatch alarms to publish to
the encrypted alarm topic, and CloudTrail only for this account's trails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_aws as aws

# Services that encrypt with the key on the account's behalf, through kms:ViaService.
VIA_SERVICES = ("rds", "elasticache", "secretsmanager", "backup", "eks", "sns", "sqs", "dynamodb", "lambda")
USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
LOGS_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def key_policy(account_id: str, region: str) -> str:
    """The policy of the key in `region`: root administers, the platform's services use."""
    root = f"arn:aws:iam::{account_id}:root"
    via = [f"{service}.{region}.amazonaws.com" for service in VIA_SERVICES]
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RootAdministers", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "PlatformServicesUseTheKey", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": list(USE_ACTIONS), "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via}}},
            {"Sid": "PlatformServicesGrantForTheirResources", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": list(GRANT_ACTIONS), "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via},
                           "Bool": {"kms:GrantIsForAWSResource": "true"}}},
            {"Sid": "CloudWatchLogsOfThisRegion", "Effect": "Allow",
             "Principal": {"Service": f"logs.{region}.amazonaws.com"},
             "Action": list(LOGS_ACTIONS), "Resource": "*",
             "Condition": {"ArnLike": {
                 "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"}}},
            # CloudWatch alarms publish to the region's encrypted alarm topic.
            {"Sid": "CloudWatchAlarmsPublishToEncryptedTopics", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
            # CloudTrail encrypts the account's trail logs (the trail lives in the primary's region).
            {"Sid": "CloudTrailEncryptsTheTrail", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:GenerateDataKey*", "Resource": "*",
             "Condition": {"StringLike": {
                 "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account_id}:trail/*"},
                 "StringEquals": {"aws:SourceAccount": account_id}}},
            # DescribeKey requests carry no encryption context, so they get a statement of
            # their own (CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail").
            {"Sid": "CloudTrailDescribesTheKey", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:DescribeKey", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
        ],
    })


@dataclass(frozen=True)
class RegionalKeysArgs:
    """Inputs of `RegionalKeys`."""

    account_id: str
    """The account whose root administers the keys and whose principals use them."""
    home_region: str
    """The primary's region: where the multi-region primary key lives."""
    providers: Mapping[str, aws.Provider]
    """One provider per region of the platform (the home region included)."""
    alias_prefix: str
    """Start of each alias, e.g. `alias/hse/production/`; the region's stack name follows."""
    stacks: Mapping[str, str]
    """Region -> the stack that runs there, for the aliases."""
    deletion_window_days: int = 30
    """Days a deleted key waits before it is gone (7 to 30)."""


class RegionalKeys(pulumi.ComponentResource):
    """The multi-region key and its replicas, one per region, each with alias and policy."""

    key_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: RegionalKeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:security:RegionalKeys", name, None, opts)
        home = args.home_region

        def on(region: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.providers[region])

        primary = aws.kms.Key(
            f"{name}-{home}",
            description=f"HSE platform data key ({home}, multi-region primary)",
            multi_region=True,
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            policy=key_policy(args.account_id, home),
            opts=on(home),
        )
        self.key_arns = {home: primary.arn}
        for region in sorted(r for r in args.providers if r != home):
            replica = aws.kms.ReplicaKey(
                f"{name}-{region}",
                description=f"HSE platform data key ({region}, replica of {home})",
                primary_key_arn=primary.arn,
                deletion_window_in_days=args.deletion_window_days,
                policy=key_policy(args.account_id, region),
                opts=on(region),
            )
            self.key_arns[region] = replica.arn
        for region, arn in self.key_arns.items():
            aws.kms.Alias(f"{name}-{region}-alias", name=f"{args.alias_prefix}{args.stacks[region]}",
                          target_key_id=arn, opts=on(region))

        self.register_outputs({"keyArns": self.key_arns})
