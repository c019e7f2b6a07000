"""RDS Proxy: the region's PostgreSQL connection pool, TLS and IAM authentication required.

The pool is sized from the spec: 20 connections per application instance, so the proxy
may take `max_connections_percent` of the database's connections (computed from the
instance class, less the write-forwarding share where that is on). On the primary the
application uses the read/write endpoint. On an Aurora secondary that endpoint fails
until the cluster is promoted, so the proxy also has a read-only endpoint, which is
what a secondary exports for its application.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy


def _read_secret_policy(secret_arn: str, key_arn: str, region: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadTheCredentials", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
             "Resource": [secret_arn]},
            {"Sid": "DecryptThroughSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": [key_arn],
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
        ],
    })


@dataclass(frozen=True)
class DatabaseProxyArgs:
    """Inputs of `DatabaseProxy`."""

    region: str
    """The proxy's region (for the key policy condition)."""
    secret_arn: pulumi.Input[str]
    """The master credentials in this region (the primary secret or its replica)."""
    key_arn: pulumi.Input[str]
    """The key that secret is encrypted with."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated-data subnets."""
    security_group_id: pulumi.Input[str]
    """The proxy's security group (reachable from the app tier, reaches the database)."""
    target: Mapping[str, pulumi.Input[str]]
    """`db_cluster_identifier` (Aurora) or `db_instance_identifier` (RDS)."""
    max_connections_percent: int
    """The pool, as a share of the database's max_connections."""
    read_only_endpoint: bool
    """Add a read-only endpoint (Aurora: readers exist in every region)."""
    secret_ready: Sequence[pulumi.Resource] = ()
    """What must exist before the proxy reads the secret (its value, in the primary)."""


class DatabaseProxy(pulumi.ComponentResource):
    """The proxy, its role, its pool settings, its target and its read-only endpoint."""

    endpoint: pulumi.Output[str]
    read_only_endpoint: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseProxyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:data:DatabaseProxy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust_policy("rds.amazonaws.com"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-read-secret",
            role=role.id,
            policy=pulumi.Output.all(args.secret_arn, args.key_arn).apply(
                lambda v: _read_secret_policy(v[0], v[1], args.region)),
            opts=child,
        )
        proxy = aws.rds.Proxy(
            f"{name}",
            engine_family="POSTGRESQL",
            role_arn=role.arn,
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[args.security_group_id],
            require_tls=True,
            idle_client_timeout=1800,
            debug_logging=False,
            auths=[aws.rds.ProxyAuthArgs(auth_scheme="SECRETS", iam_auth="REQUIRED", secret_arn=args.secret_arn,
                                         description="Master credentials; clients sign in with IAM")],
            # The proxy reads the secret at once: its role must already allow that.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, *args.secret_ready]),
        )
        group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-pool",
            db_proxy_name=proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=args.max_connections_percent,
                max_idle_connections_percent=max(1, args.max_connections_percent // 2),
                connection_borrow_timeout=120,
            ),
            opts=child,
        )
        aws.rds.ProxyTarget(
            f"{name}-target",
            db_proxy_name=proxy.name,
            target_group_name=group.name,
            **args.target,
            opts=child,
        )
        self.endpoint = proxy.endpoint
        self.arn = proxy.arn
        if args.read_only_endpoint:
            read_only = aws.rds.ProxyEndpoint(
                f"{name}-ro",
                db_proxy_name=proxy.name,
                db_proxy_endpoint_name=proxy.name.apply(lambda n: f"{n}-ro"),
                target_role="READ_ONLY",
                vpc_subnet_ids=list(args.subnet_ids),
                vpc_security_group_ids=[args.security_group_id],
                opts=child,
            )
            self.read_only_endpoint = read_only.endpoint
        else:
            self.read_only_endpoint = proxy.endpoint
        self.register_outputs({"endpoint": self.endpoint, "readOnlyEndpoint": self.read_only_endpoint,
                               "arn": self.arn})
