"""Security groups of the tiers in a region: app, database proxy, database and redis.

Each group opens only what its tier needs. The app tier takes traffic on its port from
the public subnets (where the regional load balancer lives) and may reach the proxy,
the database and redis groups plus HTTPS on the internet through NAT. The proxy (RDS
Proxy, the application's connection pool) takes PostgreSQL from the app tier and may
only reach the database. The database and redis groups take traffic only from the app
group (and the database from the proxy); rules for peered regions' app subnets are
added by `VpcPeering`. Database and redis have no egress rules at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.sg_rules import HTTPS_PORT, POSTGRES_PORT, REDIS_PORT, Rule, cidr_slug, egress, ingress


@dataclass(frozen=True)
class TierSecurityGroupsArgs:
    """Inputs of `TierSecurityGroups`."""

    vpc_id: pulumi.Input[str]
    """The VPC the groups belong to."""
    public_subnet_cidrs: Sequence[str]
    """Where the regional load balancer runs; the only source of app traffic."""
    app_port: int
    """The port the application listens on."""


class TierSecurityGroups(pulumi.ComponentResource):
    """App, database and redis security groups with least-privilege rules."""

    app_group_id: pulumi.Output[str]
    proxy_group_id: pulumi.Output[str]
    database_group_id: pulumi.Output[str]
    redis_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: TierSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:network:TierSecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def group(tier: str, description: str) -> aws.ec2.SecurityGroup:
            # No fixed name: Pulumi generates one with a unique suffix, so a replacement
            # (the description is replace-only) never collides with the group it replaces.
            return aws.ec2.SecurityGroup(
                f"{name}-{tier}",
                description=description,
                vpc_id=args.vpc_id,
                revoke_rules_on_delete=True,
                tags={"Name": f"{name}-{tier}", "tier": tier},
                opts=child,
            )

        app = group("app", "Application instances behind the regional load balancer")
        proxy = group("proxy", "RDS Proxy, the app tier's PostgreSQL connection pool")
        database = group("database", "PostgreSQL, reachable from the app tier and its proxy only")
        redis = group("redis", "Redis, reachable from the app tier only")

        for cidr in args.public_subnet_cidrs:
            ingress(f"{name}-app", app.id, Rule(f"lb-{cidr_slug(cidr)}", "Regional load balancer", args.app_port, cidr=cidr), child)
        egress(f"{name}-app", app.id, Rule("https", "HTTPS to external services through NAT", HTTPS_PORT, cidr="0.0.0.0/0"), child)
        egress(f"{name}-app", app.id, Rule("database", "PostgreSQL in this region", POSTGRES_PORT, source_group=database.id), child)
        egress(f"{name}-app", app.id, Rule("redis", "Redis in this region", REDIS_PORT, source_group=redis.id), child)
        egress(f"{name}-app", app.id, Rule("proxy", "PostgreSQL pool in this region", POSTGRES_PORT, source_group=proxy.id), child)
        ingress(f"{name}-proxy", proxy.id, Rule("app", "PostgreSQL from the app tier", POSTGRES_PORT, source_group=app.id), child)
        egress(f"{name}-proxy", proxy.id, Rule("database", "PostgreSQL in this region", POSTGRES_PORT, source_group=database.id), child)
        ingress(f"{name}-database", database.id, Rule("proxy", "PostgreSQL from the proxy", POSTGRES_PORT, source_group=proxy.id), child)
        ingress(f"{name}-database", database.id, Rule("app", "PostgreSQL from the app tier", POSTGRES_PORT, source_group=app.id), child)
        ingress(f"{name}-redis", redis.id, Rule("app", "Redis from the app tier", REDIS_PORT, source_group=app.id), child)

        self.app_group_id = app.id
        self.proxy_group_id = proxy.id
        self.database_group_id = database.id
        self.redis_group_id = redis.id
        self.register_outputs({
            "appGroupId": self.app_group_id,
            "proxyGroupId": self.proxy_group_id,
            "databaseGroupId": self.database_group_id,
            "redisGroupId": self.redis_group_id,
        })
