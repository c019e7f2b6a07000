"""Security-group rules as standalone resources.

Rules are separate `aws.vpc.SecurityGroupIngressRule` / `SecurityGroupEgressRule`
resources rather than inline blocks, because a later stack adds rules to an earlier
stack's groups (the peering mesh) and inline rules would fight over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

POSTGRES_PORT = 5432
REDIS_PORT = 6379
HTTPS_PORT = 443


@dataclass(frozen=True)
class Rule:
    """One TCP port opened to a CIDR or to another security group."""

    slug: str
    description: str
    port: int
    cidr: Optional[pulumi.Input[str]] = None
    source_group: Optional[pulumi.Input[str]] = None


def _rule(resource: type, direction: str, name: str, group_id: pulumi.Input[str], rule: Rule,
          opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    return resource(
        f"{name}-{direction}-{rule.slug}",
        security_group_id=group_id,
        description=rule.description,
        ip_protocol="tcp",
        from_port=rule.port,
        to_port=rule.port,
        cidr_ipv4=rule.cidr,
        referenced_security_group_id=rule.source_group,
        opts=opts,
    )


def ingress(name: str, group_id: pulumi.Input[str], rule: Rule, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Allow `rule` into the group."""
    return _rule(aws.vpc.SecurityGroupIngressRule, "in", name, group_id, rule, opts)


def egress(name: str, group_id: pulumi.Input[str], rule: Rule, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Allow `rule` out of the group."""
    return _rule(aws.vpc.SecurityGroupEgressRule, "out", name, group_id, rule, opts)


def cidr_slug(cidr: str) -> str:
    """`10.1.32.0/19` -> `10-1-32-0-19`, for resource names."""
    return cidr.replace(".", "-").replace("/", "-")
