"""Logging and audit rules: log groups, flow logs, alarms and the log buckets."""

from __future__ import annotations

from policies import types as t
from policies.rule import ADVISORY, MANDATORY, as_list, of_type, resource_policy, setting, stack_policy

DOMAIN = "logging-audit"
MIN_LOG_DAYS = 365


def log_group_kms(args, report_violation):
    if not args.props.get("kmsKeyId"):
        report_violation("CloudWatch log group must be encrypted with a KMS key.")


def log_group_retention(args, report_violation):
    minimum = setting(args, "minimumDays", MIN_LOG_DAYS)
    days = args.props.get("retentionInDays") or 0  # 0: kept forever
    if days and days < minimum:
        report_violation(f"CloudWatch log group must keep logs at least {minimum} days (found {days}).")


def flow_log_all_traffic(args, report_violation):
    if args.props.get("trafficType") != "ALL":
        report_violation("VPC flow log must capture ALL traffic.")


STOP_CONDITION_TAG = "hse:stop-condition"


def alarm_notifies(args, report_violation):
    """Every alarm pages someone, except a FIS stop condition (tagged `hse:stop-condition`),
    which only stops experiments."""
    if STOP_CONDITION_TAG in (args.props.get("tags") or {}):
        return
    if not as_list(args.props.get("alarmActions")):
        report_violation("CloudWatch alarm must notify an SNS topic (alarmActions).")


def _by_bucket(args, type_: str) -> dict:
    return {r.props.get("bucket"): r for r in of_type(args, type_)}


def bucket_public_access_blocked(args, report_violation):
    blocks = _by_bucket(args, t.BUCKET_PUBLIC_ACCESS_BLOCK)
    keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in of_type(args, t.BUCKET):
        block = blocks.get(bucket.props.get("bucket"))
        if block is None or not all(block.props.get(k) is True for k in keys):
            report_violation("S3 bucket must block every kind of public access.", bucket.urn)


def bucket_encrypted(args, report_violation):
    configs = _by_bucket(args, t.BUCKET_ENCRYPTION)
    for bucket in of_type(args, t.BUCKET):
        config = configs.get(bucket.props.get("bucket"))
        rules = as_list(config.props.get("rules")) if config is not None else []
        if not any((r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") for r in rules):
            report_violation("S3 bucket must have default server-side encryption.", bucket.urn)


POLICIES = [
    resource_policy("log-group-kms", "CloudWatch log groups are encrypted with a KMS key.",
                    log_group_kms, level=MANDATORY, types=[t.LOG_GROUP], domain=DOMAIN, checkov=["CKV_AWS_158"]),
    resource_policy("log-group-retention", "CloudWatch log groups keep logs for a year.",
                    log_group_retention, level=ADVISORY, types=[t.LOG_GROUP], domain=DOMAIN, checkov=["CKV_AWS_338"],
                    config={"minimumDays": {"type": "integer", "default": MIN_LOG_DAYS}}),
    resource_policy("flow-log-all-traffic", "VPC flow logs capture accepted and rejected traffic.",
                    flow_log_all_traffic, level=MANDATORY, types=[t.FLOW_LOG], domain=DOMAIN),
    resource_policy("alarm-notifies-topic", "Every CloudWatch alarm notifies the region's SNS topic.",
                    alarm_notifies, level=MANDATORY, types=[t.METRIC_ALARM], domain=DOMAIN),
    stack_policy("s3-public-access-blocked", "Every S3 bucket blocks public access.",
                 bucket_public_access_blocked, level=MANDATORY, domain=DOMAIN, checkov=["CKV2_AWS_6"]),
    stack_policy("s3-default-encryption", "Every S3 bucket is encrypted by default.",
                 bucket_encrypted, level=MANDATORY, domain=DOMAIN, checkov=["CKV_AWS_19"]),
]
