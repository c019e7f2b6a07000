"""An S3 bucket nobody reaches from the internet: public access blocked, encrypted at
rest, TLS-only, versioned, with expiry or archive rules from its owner.

Used for the CDN's uploads (read only by CloudFront through Origin Access Control) and
its access logs (written by CloudFront's log delivery, which needs ACLs enabled on the
bucket: `acl_log_delivery`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PrivateBucketArgs:
    """Inputs of `PrivateBucket`."""

    name_prefix: str
    """Start of the generated bucket name (lowercase, ends with a hyphen)."""
    expire_days: Optional[int] = None
    """Delete objects (and old versions) after this many days; None keeps them."""
    archive_days: Optional[int] = None
    """Move objects to Glacier Instant Retrieval after this many days; None never."""
    acl_log_delivery: bool = False
    """Keep ACLs usable (BucketOwnerPreferred) for CloudFront's standard log delivery."""


class PrivateBucket(pulumi.ComponentResource):
    """A private, encrypted, versioned bucket."""

    bucket: aws.s3.Bucket
    access_block: aws.s3.BucketPublicAccessBlock

    def __init__(self, name: str, args: PrivateBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:storage:PrivateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}", bucket_prefix=args.name_prefix, force_destroy=False, opts=child)
        self.access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerPreferred" if args.acl_log_delivery else "BucketOwnerEnforced"},
            opts=child)
        # SSE-S3: CloudFront's log delivery cannot write to SSE-KMS buckets, and reads
        # through Origin Access Control need no key policy for it.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child)
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.id,
                                versioning_configuration={"status": "Enabled"}, opts=child)
        rules = []
        if args.archive_days is not None:
            rules.append({"id": "archive", "status": "Enabled", "filter": {},
                          "transitions": [{"days": args.archive_days, "storage_class": "GLACIER_IR"}]})
        if args.expire_days is not None:
            rules.append({"id": "expire", "status": "Enabled", "filter": {},
                          "expiration": {"days": args.expire_days},
                          "noncurrent_version_expiration": {"noncurrent_days": args.expire_days}})
        rules.append({"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {},
                      "abort_incomplete_multipart_upload": {"days_after_initiation": 7}})
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=self.bucket.id, rules=rules, opts=child)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})

    def policy(self, name: str, statements: pulumi.Input[list]) -> aws.s3.BucketPolicy:
        """Attach the bucket policy: `statements` plus a deny of every request without TLS."""
        deny_plain = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                      "Resource": [self.bucket.arn, pulumi.Output.concat(self.bucket.arn, "/*")],
                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        document = pulumi.Output.all(deny_plain, statements).apply(
            lambda parts: json.dumps({"Version": "2012-10-17", "Statement": [parts[0], *parts[1]]}))
        # After the public access block: S3 rejects some policies while it is being applied.
        return aws.s3.BucketPolicy(name, bucket=self.bucket.id, policy=document,
                                   opts=pulumi.ResourceOptions(parent=self, depends_on=[self.access_block]))
