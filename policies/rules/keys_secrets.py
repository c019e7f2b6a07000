"""Key and secret rules: KMS keys, their policies, and Secrets Manager secrets."""

from __future__ import annotations

import json

from policies import types as t
from policies.rule import (MANDATORY, arn_region, as_list, of_type, region_of, resource_policy, stack_outputs,
                           stack_policy)

DOMAIN = "keys-secrets"
KEY_FIELDS = ("kmsKeyId", "kmsKeyArn", "performanceInsightsKmsKeyId")


def key_rotation(args, report_violation):
    """Symmetric keys only: KMS cannot rotate asymmetric or HMAC keys (a DNSSEC signing key
    is asymmetric), as checkov's CKV_AWS_7 also skips them."""
    if args.props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return
    if args.props.get("enableKeyRotation") is not True:
        report_violation("KMS key must have automatic rotation enabled.")


def _statements(policy) -> list:
    try:
        document = json.loads(policy) if isinstance(policy, str) else (policy or {})
    except ValueError:
        return []
    return as_list(document.get("Statement"))


def key_policy_no_open_principal(args, report_violation):
    """A wildcard principal is allowed only when a kms:CallerAccount condition confines it to the account."""
    for statement in _statements(args.props.get("policy")):
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else principal
        if statement.get("Effect") != "Allow" or "*" not in as_list(aws):
            continue
        conditions = statement.get("Condition") or {}
        if not any("kms:CallerAccount" in (block or {}) for block in conditions.values()):
            report_violation(f"KMS key policy statement {statement.get('Sid', '')} must not allow every principal "
                             "without a kms:CallerAccount condition.".replace("  ", " "))


def secret_kms_cmk(args, report_violation):
    if not args.props.get("kmsKeyId"):
        report_violation("Secrets Manager secret must be encrypted with a customer-managed KMS key.")


def secret_rotation(args, report_violation):
    rotated = {r.props.get("secretId") for r in of_type(args, t.SECRET_ROTATION)}
    for secret in of_type(args, t.SECRET):
        if not ({secret.props.get("id"), secret.props.get("arn")} & rotated):
            report_violation("Secrets Manager secret must rotate automatically.", secret.urn)


def regional_keys(args, report_violation):
    """The stack's region has a KMS key of its own (declared here, with rotation checked by
    kms-key-rotation, or the multi-region replica the `kmsKeyArn` output names), and every
    resource that names a key uses one of its own region."""
    region = stack_outputs(args).get("awsRegion")
    if region:
        declared = {region_of(k) for k in of_type(args, t.KMS_KEY, t.KMS_REPLICA_KEY)}
        if region not in declared and arn_region(stack_outputs(args).get("kmsKeyArn")) != region:
            report_violation(f"Region {region} must have its own KMS key.")
    for resource in args.resources:
        home = region_of(resource)
        for field in KEY_FIELDS:
            key_region = arn_region(resource.props.get(field))
            if home and key_region and key_region != home:
                report_violation(f"Resource must be encrypted with a key of its own region {home} ({field} is in {key_region}).",
                                 resource.urn)


POLICIES = [
    resource_policy("kms-key-rotation", "KMS keys rotate automatically.",
                    key_rotation, level=MANDATORY, types=[t.KMS_KEY], domain=DOMAIN, checkov=["CKV_AWS_7"]),
    resource_policy("kms-key-policy-no-open-principal", "KMS key policies never allow every principal unconditionally.",
                    key_policy_no_open_principal, level=MANDATORY, types=[t.KMS_KEY, t.KMS_REPLICA_KEY], domain=DOMAIN,
                    checkov=["CKV_AWS_33"]),
    resource_policy("secret-kms-cmk", "Secrets are encrypted with a customer-managed KMS key.",
                    secret_kms_cmk, level=MANDATORY, types=[t.SECRET], domain=DOMAIN, checkov=["CKV_AWS_149"]),
    stack_policy("secret-rotation", "Every secret rotates automatically.",
                 secret_rotation, level=MANDATORY, domain=DOMAIN, checkov=["CKV2_AWS_57"]),
    stack_policy("regional-keys", "Every region has its own key, and every encrypted resource uses its region's key.",
                 regional_keys, level=MANDATORY, domain=DOMAIN),
]
