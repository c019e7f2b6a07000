"""IAM documents the components share: who may assume a service role."""

from __future__ import annotations

import json
from typing import Optional


def service_trust_policy(service: str, source_account: Optional[str] = None) -> str:
    """A trust policy that lets one AWS service (e.g. `rds.amazonaws.com`) assume the role,
    on behalf of `source_account` only when given (the confused-deputy guard)."""
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
