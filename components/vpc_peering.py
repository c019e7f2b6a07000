"""A cross-region VPC peering between this stack's VPC and an earlier stack's VPC.

The later stack owns the whole peering, on both sides: it requests the connection in
its own region, accepts it through an explicit provider for the peer's region, turns
on DNS resolution across it, and adds, in each VPC, routes to the other VPC's network
on the private route tables only, plus the security-group rules that let each side's
app tier reach the other side's database and redis. The earlier stack never needs to
know about later ones, so stacks deploy in order without a cycle.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.sg_rules import POSTGRES_PORT, REDIS_PORT, Rule, cidr_slug, egress, ingress


@dataclass(frozen=True)
class PeeringSide:
    """One VPC of the peering and what the mesh touches in it."""

    stack: str
    """The stack that owns the VPC."""
    region: str
    """The VPC's AWS region."""
    provider: aws.Provider
    """The provider for that region; every resource on this side goes through it."""
    vpc_id: pulumi.Input[str]
    """The VPC."""
    vpc_cidr: str
    """The VPC's network, the destination of the other side's routes."""
    app_subnet_cidrs: Sequence[str]
    """The app tier's subnets, allowed into the other side's data tier."""
    data_subnet_cidrs: Sequence[str]
    """The data tier's subnets, where the other side's app tier may connect."""
    private_route_table_ids: Sequence[pulumi.Input[str]]
    """Route tables that get a route to the other VPC (private-app and isolated-data)."""
    app_group_id: pulumi.Input[str]
    """Security group of the app tier."""
    database_group_id: pulumi.Input[str]
    """Security group of the database tier."""
    redis_group_id: pulumi.Input[str]
    """Security group of the redis tier."""


@dataclass(frozen=True)
class VpcPeeringArgs:
    """Inputs of `VpcPeering`."""

    requester: PeeringSide
    """This stack's VPC."""
    accepter: PeeringSide
    """The earlier stack's VPC."""
    accepter_account_id: str
    """The account that owns the accepter VPC."""


def collapse(cidrs: Sequence[str]) -> list[str]:
    """The same addresses in as few networks as possible (3 app /19s become a /18 and a /19).

    Every peer region adds rules to the same groups; fewer networks per peer keeps the
    groups under AWS's default quota of 60 rules per direction for longer.
    """
    return [str(n) for n in ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs)]


class VpcPeering(pulumi.ComponentResource):
    """Both halves of one cross-region VPC peering, with routes and rules on each side."""

    connection_id: pulumi.Output[str]

    def __init__(self, name: str, args: VpcPeeringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:network:VpcPeering", name, None, opts)
        req, acc = args.requester, args.accepter

        connection = aws.ec2.VpcPeeringConnection(
            f"{name}-request",
            vpc_id=req.vpc_id,
            peer_vpc_id=acc.vpc_id,
            peer_owner_id=args.accepter_account_id,
            peer_region=acc.region,
            # A cross-region peering cannot be auto-accepted by the requester.
            auto_accept=False,
            tags={"Name": f"{name}", "side": "requester"},
            opts=self._on(req),
        )
        accepted = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accept",
            vpc_peering_connection_id=connection.id,
            auto_accept=True,
            tags={"Name": f"{name}", "side": "accepter"},
            opts=self._on(acc),
        )
        # Options can only be set once the connection is active, each side by its own region.
        aws.ec2.PeeringConnectionOptions(
            f"{name}-dns-{req.stack}",
            vpc_peering_connection_id=accepted.id,
            requester=aws.ec2.PeeringConnectionOptionsRequesterArgs(allow_remote_vpc_dns_resolution=True),
            opts=self._on(req),
        )
        aws.ec2.PeeringConnectionOptions(
            f"{name}-dns-{acc.stack}",
            vpc_peering_connection_id=accepted.id,
            accepter=aws.ec2.PeeringConnectionOptionsAccepterArgs(allow_remote_vpc_dns_resolution=True),
            opts=self._on(acc),
        )
        self._open(name, req, acc, accepted.id)
        self._open(name, acc, req, accepted.id)

        self.connection_id = accepted.id
        self.register_outputs({"connectionId": self.connection_id})

    def _on(self, side: PeeringSide) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=side.provider)

    def _open(self, name: str, side: PeeringSide, other: PeeringSide, connection_id: pulumi.Output[str]) -> None:
        """Routes and rules in `side` for traffic to and from `other`."""
        opts = self._on(side)
        prefix = f"{name}-{side.stack}"
        for i, table_id in enumerate(side.private_route_table_ids):
            aws.ec2.Route(
                f"{prefix}-route-{i}",
                route_table_id=table_id,
                destination_cidr_block=other.vpc_cidr,
                vpc_peering_connection_id=connection_id,
                opts=opts,
            )
        for cidr in collapse(other.app_subnet_cidrs):
            slug = f"{other.stack}-{cidr_slug(cidr)}"
            ingress(f"{prefix}-database", side.database_group_id,
                    Rule(slug, f"PostgreSQL from {other.stack} app tier", POSTGRES_PORT, cidr=cidr), opts)
            ingress(f"{prefix}-redis", side.redis_group_id,
                    Rule(slug, f"Redis from {other.stack} app tier", REDIS_PORT, cidr=cidr), opts)
        for cidr in collapse(other.data_subnet_cidrs):
            slug = f"{other.stack}-{cidr_slug(cidr)}"
            egress(f"{prefix}-app", side.app_group_id,
                   Rule(f"pg-{slug}", f"PostgreSQL in {other.stack}", POSTGRES_PORT, cidr=cidr), opts)
            egress(f"{prefix}-app", side.app_group_id,
                   Rule(f"redis-{slug}", f"Redis in {other.stack}", REDIS_PORT, cidr=cidr), opts)
