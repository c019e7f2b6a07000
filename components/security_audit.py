"""The spec's "regular security audits" as infrastructure.

- `AuditTrail` (the primary): one multi-region CloudTrail trail with global service
  events and log-file validation, encrypted with the platform key, into a private bucket
  that only CloudTrail may write to (for this account's trail) and that archives old
  logs.
- `ThreatDetection` (every region): GuardDuty and Security Hub with AWS's default
  standards, so findings surface in each region where the platform runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.private_bucket import PrivateBucket, PrivateBucketArgs


@dataclass(frozen=True)
class AuditTrailArgs:
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    bucket_prefix: str
    archive_days: int
    retention_days: int = 2555
    """About seven years: long enough for the audits regulators ask for."""


class AuditTrail(pulumi.ComponentResource):
    trail_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:security:AuditTrail", name, None, opts)
        bucket = PrivateBucket(f"{name}-logs", PrivateBucketArgs(
            name_prefix=args.bucket_prefix, archive_days=args.archive_days, expire_days=args.retention_days),
            pulumi.ResourceOptions(parent=self))
        trail_arn = f"arn:aws:cloudtrail:{args.region}:{args.account_id}:trail/{name}"
        policy = bucket.policy(f"{name}-logs-policy", [
            {"Sid": "CloudTrailReadsTheAcl", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": bucket.bucket.arn,
             "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
            {"Sid": "CloudTrailWritesThisAccountsLogs", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": pulumi.Output.concat(bucket.bucket.arn, f"/AWSLogs/{args.account_id}/*"),
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                            "aws:SourceArn": trail_arn}}},
        ])
        trail = aws.cloudtrail.Trail(
            f"{name}", name=name, s3_bucket_name=bucket.bucket.id, kms_key_id=args.kms_key_arn,
            is_multi_region_trail=True, include_global_service_events=True, enable_log_file_validation=True,
            enable_logging=True, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        self.trail_arn = trail.arn
        self.register_outputs({"trailArn": self.trail_arn})


class ThreatDetection(pulumi.ComponentResource):
    detector_id: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:security:ThreatDetection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        detector = aws.guardduty.Detector(f"{name}-guardduty", enable=True,
                                          finding_publishing_frequency="FIFTEEN_MINUTES", opts=child)
        aws.securityhub.Account(f"{name}-securityhub", enable_default_standards=True, auto_enable_controls=True,
                                opts=child)
        self.detector_id = detector.id
        self.register_outputs({"detectorId": self.detector_id})
