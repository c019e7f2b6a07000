"""Network rules: VPCs, subnets, routes and security groups."""

from __future__ import annotations

from policies import types as t
from policies.rule import ADVISORY, MANDATORY, as_list, of_type, resource_policy, stack_policy

DOMAIN = "network"
OPEN = ("0.0.0.0/0", "::/0")


def peering_routes_specific(args, report_violation):
    routes = [args.props] if args.resource_type == t.ROUTE else as_list(args.props.get("routes"))
    for route in routes:
        cidr = route.get("destinationCidrBlock") or route.get("cidrBlock") or route.get("destinationIpv6CidrBlock")
        if route.get("vpcPeeringConnectionId") and cidr in OPEN:
            report_violation("A route through a VPC peering connection must target the peer's networks, not all traffic.")


def ingress_not_open(args, report_violation):
    if args.props.get("cidrIpv4") in OPEN or args.props.get("cidrIpv6") in OPEN:
        report_violation("Security group ingress must not be open to the internet.")


def no_public_ip_on_launch(args, report_violation):
    if args.props.get("mapPublicIpOnLaunch") is True:
        report_violation("Subnet must not assign public IP addresses on launch.")


def rule_description(args, report_violation):
    if not args.props.get("description"):
        report_violation("Security group rule must have a description.")


def vpc_flow_logs(args, report_violation):
    logged = {f.props.get("vpcId") for f in of_type(args, t.FLOW_LOG)}
    for vpc in of_type(args, t.VPC):
        vpc_id = vpc.props.get("id")
        if vpc_id not in logged:
            report_violation("VPC must have flow logs enabled.", vpc.urn)


def security_group_attached(args, report_violation):
    """A security group is attached when a resource other than its own rules names its id
    (an instance, a cluster, a proxy, a function); a stack output naming it, or another
    group's rule that only admits it as a source, does not attach it."""
    for group in of_type(args, t.SECURITY_GROUP):
        group_id = group.props.get("id")
        used = any(_names(r.props, group_id) for r in args.resources
                   if r.urn != group.urn and r.resource_type not in (t.STACK, t.INGRESS_RULE, t.EGRESS_RULE))
        if not used:
            report_violation("Security group must be attached to a resource.", group.urn)


def _names(value, wanted) -> bool:
    if isinstance(value, str):
        return value == wanted or wanted in value.split(",")
    if isinstance(value, dict):
        return any(_names(v, wanted) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_names(v, wanted) for v in value)
    return False


def default_security_group_closed(args, report_violation):
    closed = {g.props.get("vpcId") for g in of_type(args, t.DEFAULT_SECURITY_GROUP)
              if not as_list(g.props.get("ingress")) and not as_list(g.props.get("egress"))}
    for vpc in of_type(args, t.VPC):
        if vpc.props.get("id") not in closed:
            report_violation("VPC's default security group must be managed and restrict all traffic.", vpc.urn)


POLICIES = [
    resource_policy("peering-routes-specific", "Routes through VPC peering target the peer's networks only.",
                    peering_routes_specific, level=MANDATORY, types=[t.ROUTE, t.ROUTE_TABLE], domain=DOMAIN,
                    checkov=["CKV2_AWS_44"]),
    resource_policy("ingress-not-open-to-internet", "No security group rule admits traffic from the whole internet.",
                    ingress_not_open, level=MANDATORY, types=[t.INGRESS_RULE], domain=DOMAIN,
                    checkov=["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260"]),
    resource_policy("subnet-no-public-ip", "Subnets never assign public IP addresses on launch.",
                    no_public_ip_on_launch, level=MANDATORY, types=[t.SUBNET], domain=DOMAIN, checkov=["CKV_AWS_130"]),
    resource_policy("security-group-rule-description", "Security group rules say what they are for.",
                    rule_description, level=ADVISORY, types=[t.INGRESS_RULE, t.EGRESS_RULE], domain=DOMAIN,
                    checkov=["CKV_AWS_23"]),
    stack_policy("vpc-flow-logs", "Every VPC has flow logs.", vpc_flow_logs, level=MANDATORY, domain=DOMAIN,
                 checkov=["CKV2_AWS_11"]),
    stack_policy("security-group-attached", "Every security group is attached to something.",
                 security_group_attached, level=MANDATORY, domain=DOMAIN, checkov=["CKV2_AWS_5"]),
    stack_policy("default-security-group-closed", "Every VPC's default security group restricts all traffic.",
                 default_security_group_closed, level=MANDATORY, domain=DOMAIN, checkov=["CKV2_AWS_12"]),
]
