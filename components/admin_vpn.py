"""Admin access to the private tiers of every region: a Client VPN endpoint in the
primary's VPC with mutual certificate authentication, split tunnel (only the platform's
networks go through it), connection logging, its own security group, an authorization
rule and a route for every region's VPC (the peering mesh carries the traffic on).

The certificates come from `components/admin_pki.py` (a CA the program makes, its keys
secret in the state), or are imported into ACM beforehand and named by ARN in the config.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AdminVpnArgs:
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: pulumi.Input[Sequence[str]]
    """Two subnets (in two AZs) the endpoint associates with."""
    region_cidrs: Sequence[str]
    """Every region's VPC CIDR, the home VPC's included."""
    client_cidr: str
    server_certificate_arn: pulumi.Input[str]
    client_root_certificate_arn: pulumi.Input[str]
    log_group_prefix: str
    kms_key_arn: pulumi.Input[str]
    log_retention_days: int
    database_group_id: pulumi.Input[str] = ""
    """The home region's database group: admins reach PostgreSQL (other regions admit the
    home VPC's app subnets, where the endpoint's interfaces are, through the peering rules)."""


class AdminVpn(pulumi.ComponentResource):
    """Client VPN endpoint, associations, authorization rules and routes."""

    endpoint_id: pulumi.Output[str]

    def __init__(self, name: str, args: AdminVpnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:security:AdminVpn", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        logs = aws.cloudwatch.LogGroup(f"{name}-connections", name_prefix=f"{args.log_group_prefix}admin-vpn-",
                                       retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,
                                       opts=child)
        group = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id, revoke_rules_on_delete=True,
                                      description="Admin VPN clients: out to the platform's networks only",
                                      tags={"tier": "admin-vpn"}, opts=child)
        for cidr in args.region_cidrs:
            aws.vpc.SecurityGroupEgressRule(f"{name}-out-{cidr.replace('.', '-').replace('/', '-')}",
                                            security_group_id=group.id, ip_protocol="-1", cidr_ipv4=cidr,
                                            description="admin traffic to a platform VPC", opts=child)
        if args.database_group_id:
            aws.vpc.SecurityGroupIngressRule(f"{name}-database-in", security_group_id=args.database_group_id,
                                             referenced_security_group_id=group.id, ip_protocol="tcp",
                                             from_port=5432, to_port=5432, description="PostgreSQL from admins on the VPN",
                                             opts=child)
        endpoint = aws.ec2clientvpn.Endpoint(
            f"{name}",
            description="HSE platform admin access",
            server_certificate_arn=args.server_certificate_arn,
            client_cidr_block=args.client_cidr,
            authentication_options=[{"type": "certificate-authentication",
                                     "root_certificate_chain_arn": args.client_root_certificate_arn}],
            connection_log_options={"enabled": True, "cloudwatch_log_group": logs.name},
            split_tunnel=True,
            transport_protocol="udp",
            session_timeout_hours=8,
            # The VPC's own resolver (its base address + 2) answers the private names.
            dns_servers=[str(ipaddress.IPv4Network(args.vpc_cidr)[2])],
            vpc_id=args.vpc_id,
            security_group_ids=[group.id],
            opts=child,
        )
        associations = pulumi.Output.from_input(args.subnet_ids).apply(lambda ids: ids[:2])
        associated = [aws.ec2clientvpn.NetworkAssociation(
            f"{name}-assoc-{i}", client_vpn_endpoint_id=endpoint.id,
            subnet_id=associations.apply(lambda ids, i=i: ids[i]), opts=child) for i in range(2)]
        for cidr in args.region_cidrs:
            slug = cidr.replace(".", "-").replace("/", "-")
            aws.ec2clientvpn.AuthorizationRule(f"{name}-allow-{slug}", client_vpn_endpoint_id=endpoint.id,
                                               target_network_cidr=cidr, authorize_all_groups=True,
                                               description="admins reach this region's VPC", opts=child)
            if cidr == args.vpc_cidr:
                continue  # the associations add the route to the home VPC themselves
            for i, association in enumerate(associated):
                aws.ec2clientvpn.Route(f"{name}-route-{slug}-{i}", client_vpn_endpoint_id=endpoint.id,
                                       destination_cidr_block=cidr, target_vpc_subnet_id=association.subnet_id,
                                       description="to a peered region over the peering mesh",
                                       opts=pulumi.ResourceOptions(parent=self, depends_on=[association]))
        self.endpoint_id = endpoint.id
        self.register_outputs({"endpointId": self.endpoint_id})
