"""The network of one region: VPC, three subnet tiers over three AZs, NAT, flow logs
and the tier security groups.

Subnet tiers:
- public: the regional load balancer and the NAT gateways; routes to the internet gateway;
- private-app: the application instances; reach the internet only through NAT;
- isolated-data: PostgreSQL and Redis; no route out of the VPC at all, except to
  peered VPCs (added by `VpcPeering`).

The default security group of the VPC is adopted and stripped of every rule, so nothing
can land in it by accident.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.flow_logs import FlowLogs, FlowLogsArgs
from components.security_groups import TierSecurityGroups, TierSecurityGroupsArgs

TIERS = ("public", "app", "data")


def plan_subnets(vpc_cidr: str, zones: int) -> dict[str, list[str]]:
    """Carve the VPC into per-AZ subnets of each tier, deterministically.

    The first three eighths of the VPC go to the app tier (one block per AZ, the
    largest, since workloads need the addresses); the fourth eighth is cut into
    sixty-fourths of the VPC for the public and data tiers. The upper half stays free
    for later tiers. For a /16: app /19s, public and data /22s.
    """
    network = ipaddress.IPv4Network(vpc_cidr)
    if zones > 3:
        raise ValueError("the subnet plan covers at most 3 availability zones")
    eighths = list(network.subnets(new_prefix=network.prefixlen + 3))
    small = list(eighths[3].subnets(new_prefix=network.prefixlen + 6))
    return {
        "app": [str(s) for s in eighths[:zones]],
        "public": [str(s) for s in small[:zones]],
        "data": [str(s) for s in small[4:4 + zones]],
    }


@dataclass(frozen=True)
class RegionStackArgs:
    """Inputs of `RegionStack`."""

    vpc_cidr: str
    """The VPC's IPv4 network."""
    availability_zones: Sequence[str]
    """The AZs the subnets spread over, one subnet of each tier per AZ."""
    nat_gateway_count: int
    """NAT gateways, one per AZ for zone independence, or fewer to save cost."""
    flow_log_retention_days: int
    """Retention of the flow log group."""
    app_port: int
    """The application's port, opened from the public subnets to the app tier."""
    account_id: str
    """The AWS account, for the flow log delivery role's trust condition."""
    log_group_prefix: str
    """Start of the names of the region's log groups, unique per environment and stack."""
    kms_key_arn: pulumi.Input[str]
    """The region's key: log groups are encrypted with it."""


class RegionStack(pulumi.ComponentResource):
    """A region's VPC with its subnets, routing, NAT, flow logs and security groups."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    subnet_cidrs: dict[str, list[str]]
    subnet_ids: dict[str, list[pulumi.Output[str]]]
    app_route_table_ids: list[pulumi.Output[str]]
    data_route_table_id: pulumi.Output[str]
    security_groups: TierSecurityGroups

    def __init__(self, name: str, args: RegionStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:network:RegionStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = list(args.availability_zones)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # Adopt the VPC's default group and leave it with no rules at all.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-locked"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child)

        self.subnet_cidrs = plan_subnets(args.vpc_cidr, len(zones))
        subnets: dict[str, list[aws.ec2.Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{zone}", "tier": tier},
                    opts=child,
                )
                for zone, cidr in zip(zones, self.subnet_cidrs[tier])
            ]

        public_rt = self._route_table(name, "public", vpc.id, subnets["public"], zones, child)
        aws.ec2.Route(f"{name}-public-internet", route_table_id=public_rt.id,
                      destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, opts=child)

        nats = []
        for zone, subnet in list(zip(zones, subnets["public"]))[: args.nat_gateway_count]:
            eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags={"Name": f"{name}-nat-{zone}"}, opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=eip.allocation_id,
                subnet_id=subnet.id,
                connectivity_type="public",
                tags={"Name": f"{name}-nat-{zone}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            ))

        self.app_route_table_ids = []
        for i, (zone, subnet) in enumerate(zip(zones, subnets["app"])):
            rt = self._route_table(name, f"app-{zone}", vpc.id, [subnet], [zone], child)
            # With fewer NAT gateways than AZs, zones share them round-robin.
            aws.ec2.Route(f"{name}-app-{zone}-egress", route_table_id=rt.id,
                          destination_cidr_block="0.0.0.0/0", nat_gateway_id=nats[i % len(nats)].id, opts=child)
            self.app_route_table_ids.append(rt.id)

        data_rt = self._route_table(name, "data", vpc.id, subnets["data"], zones, child)
        self.data_route_table_id = data_rt.id

        FlowLogs(f"{name}-flow-logs", FlowLogsArgs(vpc_id=vpc.id, account_id=args.account_id,
                                                   retention_days=args.flow_log_retention_days,
                                                   log_group_prefix=args.log_group_prefix,
                                                   kms_key_arn=args.kms_key_arn), child)
        self.security_groups = TierSecurityGroups(
            f"{name}-sg",
            TierSecurityGroupsArgs(vpc_id=vpc.id, public_subnet_cidrs=self.subnet_cidrs["public"], app_port=args.app_port),
            child,
        )

        self.vpc_id = vpc.id
        self.vpc_cidr = args.vpc_cidr
        self.subnet_ids = {tier: [s.id for s in subnets[tier]] for tier in TIERS}
        self.register_outputs({
            "vpcId": self.vpc_id,
            "vpcCidr": self.vpc_cidr,
            "subnetIds": self.subnet_ids,
            "subnetCidrs": self.subnet_cidrs,
            "privateRouteTableIds": self.private_route_table_ids,
        })

    @property
    def private_route_table_ids(self) -> list[pulumi.Output[str]]:
        """Route tables of the private-app and isolated-data subnets (never the public one)."""
        return [*self.app_route_table_ids, self.data_route_table_id]

    def _route_table(self, name: str, role: str, vpc_id: pulumi.Output[str], subnets: list[aws.ec2.Subnet],
                     zones: list[str], opts: pulumi.ResourceOptions) -> aws.ec2.RouteTable:
        rt = aws.ec2.RouteTable(f"{name}-{role}-rt", vpc_id=vpc_id, tags={"Name": f"{name}-{role}"}, opts=opts)
        for zone, subnet in zip(zones, subnets):
            # A table of a single subnet (an app AZ) already names its zone in its role.
            assoc = f"{name}-{role}" if len(subnets) == 1 else f"{name}-{role}-{zone}"
            aws.ec2.RouteTableAssociation(assoc, route_table_id=rt.id, subnet_id=subnet.id, opts=opts)
        return rt
