"""RegionStack: the VPC, its subnet tiers, NAT, routing, flow logs and security groups."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from components.region_stack import plan_subnets
from components.sg_rules import cidr_slug
from infra.engine import StackPlan
from tests.conftest import STACKS, edit_stack

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

CIDRS = {"us-east": "10.0.0.0/16", "eu-west": "10.1.0.0/16", "ap-se": "10.2.0.0/16"}
REGIONS = {"us-east": "us-east-1", "eu-west": "eu-west-1", "ap-se": "ap-southeast-1"}


def _vpc(plan: StackPlan):
    (vpc,) = plan.find(VPC)
    return vpc


def _home_region(plan: StackPlan, resource) -> str:
    return plan.get(resource.provider_urn).input("region")


def test_plan_subnets_refuses_a_fourth_zone() -> None:
    # A fourth app block would be the eighth the public and data tiers are cut from.
    with pytest.raises(ValueError, match="at most 3 availability zones"):
        plan_subnets("10.0.0.0/16", 4)


def test_rule_names_are_stable_slugs(plans) -> None:
    # Rule names are part of URNs: a changed slug would replace every rule on the next deploy.
    assert cidr_slug("10.1.32.0/19") == "10-1-32-0-19"
    names = {r.name for r in plans["us-east"].find(INGRESS)}
    assert "hse-us-east-sg-app-in-lb-10-0-96-0-22" in names
    for plan in plans.values():
        for r in plan.resources:
            assert re.fullmatch(r"[a-z0-9-]+", r.name), r.urn


def test_plan_subnets_for_a_16() -> None:
    assert plan_subnets("10.0.0.0/16", 3) == {
        "app": ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
        "public": ["10.0.96.0/22", "10.0.100.0/22", "10.0.104.0/22"],
        "data": ["10.0.112.0/22", "10.0.116.0/22", "10.0.120.0/22"],
    }


def test_plan_subnets_for_a_20_stays_inside_and_disjoint() -> None:
    plan = plan_subnets("172.16.16.0/20", 3)
    nets = [ipaddress.IPv4Network(c) for tier in plan.values() for c in tier]
    assert all(n.subnet_of(ipaddress.IPv4Network("172.16.16.0/20")) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    assert plan["app"][0] == "172.16.16.0/23" and plan["data"][0] == "172.16.23.0/26"


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_cidr_dns_and_region(plans, stack) -> None:
    vpc = _vpc(plans[stack])
    assert vpc.input("cidrBlock") == CIDRS[stack]
    assert vpc.input("enableDnsSupport") is True and vpc.input("enableDnsHostnames") is True
    assert _home_region(plans[stack], vpc) == REGIONS[stack]
    assert vpc.output("arn").startswith(f"arn:aws:ec2:{REGIONS[stack]}:111122223333:vpc/vpc-")


@pytest.mark.parametrize("stack", STACKS)
def test_three_tiers_of_three_subnets_one_per_az(plans, stack) -> None:
    plan = plans[stack]
    vpc = _vpc(plan)
    subnets = plan.find(SUBNET)
    assert len(subnets) == 9
    by_tier: dict[str, list] = {}
    for s in subnets:
        assert s.input("vpcId") == vpc.id, s.urn
        assert s.input("mapPublicIpOnLaunch") is False, s.urn
        by_tier.setdefault(s.input("tags")["tier"], []).append(s)
    assert sorted(by_tier) == ["app", "data", "public"]
    zones = [f"{REGIONS[stack]}{z}" for z in "abc"]
    expected = plan_subnets(CIDRS[stack], 3)
    for tier, members in by_tier.items():
        assert sorted(s.input("availabilityZone") for s in members) == zones, tier
        assert sorted(s.input("cidrBlock") for s in members) == sorted(expected[tier]), tier


@pytest.mark.parametrize("stack", STACKS)
def test_routing_public_to_igw_app_to_nat_data_isolated(plans, stack) -> None:
    plan = plans[stack]
    subnets = {s.id: s.input("tags")["tier"] for s in plan.find(SUBNET)}
    table_tiers: dict[str, set] = {}
    for a in plan.find(ASSOCIATION):
        table_tiers.setdefault(a.input("routeTableId"), set()).add(subnets[a.input("subnetId")])
    default_routes = {r.input("routeTableId"): r for r in plan.find(ROUTE) if r.input("destinationCidrBlock") == "0.0.0.0/0"}
    nats = {n.id: n for n in plan.find(NAT)}
    (igw,) = plan.find("aws:ec2/internetGateway:InternetGateway")
    assert len(table_tiers) == 5  # public, one app table per AZ, data
    for table_id, tiers in table_tiers.items():
        assert len(tiers) == 1, f"route table {table_id} mixes tiers {tiers}"
        tier = tiers.pop()
        route = default_routes.get(table_id)
        if tier == "public":
            assert route is not None and route.input("gatewayId") == igw.id
        elif tier == "app":
            assert route is not None and route.input("natGatewayId") in nats
        else:
            assert route is None, "the data tier must have no route out of the VPC"


@pytest.mark.parametrize("stack", STACKS)
def test_one_nat_per_az_in_the_public_subnets(plans, stack) -> None:
    plan = plans[stack]
    public = {s.id: s.input("availabilityZone") for s in plan.find(SUBNET) if s.input("tags")["tier"] == "public"}
    nats = plan.find(NAT)
    assert len(nats) == 3
    assert sorted(public[n.input("subnetId")] for n in nats) == sorted(public.values())
    eips = {e.output("allocationId") for e in plan.find("aws:ec2/eip:Eip")}
    assert {n.input("allocationId") for n in nats} == eips


def test_nat_count_is_configurable(project_copy, plan_copy) -> None:
    edit_stack(project_copy, "us-east", natGatewayCount=1)
    plan = plan_copy("us-east")
    (nat,) = plan.find(NAT)
    app_defaults = [r for r in plan.find(ROUTE) if r.input("natGatewayId")]
    assert len(app_defaults) == 3 and {r.input("natGatewayId") for r in app_defaults} == {nat.id}
    assert len(plan.find("aws:ec2/eip:Eip")) == 1


@pytest.mark.parametrize("stack", STACKS)
def test_flow_logs_capture_all_traffic_of_the_vpc(plans, stack) -> None:
    plan = plans[stack]
    (flow,) = plan.find("aws:ec2/flowLog:FlowLog")
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", f"hse-{plan.outputs['stack']}-flow-logs-group")
    role = plan.one("aws:iam/role:Role", f"hse-{stack}-flow-logs-role")
    assert flow.input("vpcId") == _vpc(plan).id
    assert flow.input("trafficType") == "ALL"
    assert flow.input("logDestinationType") == "cloud-watch-logs"
    assert flow.input("logDestination") == group.output("arn")
    assert flow.input("iamRoleArn") == role.output("arn")
    assert group.input("retentionInDays") == 365
    assert flow.input("maxAggregationInterval") == 60
    trust = json.loads(role.input("assumeRolePolicy"))["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-flow-logs-delivery")
    resources = json.loads(policy.input("policy"))["Statement"][0]["Resource"]
    assert resources == [group.output("arn"), group.output("arn") + ":*"]


@pytest.mark.parametrize("stack", STACKS)
def test_default_security_group_has_no_rules(plans, stack) -> None:
    (default,) = plans[stack].find("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.input("vpcId") == _vpc(plans[stack]).id
    assert default.input("ingress") == [] and default.input("egress") == []


TIERS = ("app", "proxy", "database", "redis")


def _rules(plan: StackPlan) -> set[tuple]:
    """(group, direction, port, source) for every rule on this region's groups.

    Rules a peering adds to the peer region's groups are not this region's and are skipped.
    """
    groups = {g.id: g.input("tags")["tier"] for g in plan.find(SG) if g.input("tags")["tier"] in TIERS}
    names = {g.id: g.input("tags")["tier"] for g in plan.find(SG)}
    out = set()
    for direction, type_ in (("in", INGRESS), ("out", EGRESS)):
        for r in plan.find(type_):
            if r.input("securityGroupId") not in groups:
                continue
            assert r.input("ipProtocol") == "tcp" and r.input("fromPort") == r.input("toPort"), r.urn
            source = r.input("cidrIpv4") or names.get(r.input("referencedSecurityGroupId"),
                                                      r.input("referencedSecurityGroupId"))
            out.add((groups[r.input("securityGroupId")], direction, r.input("fromPort"), source))
    return out


def test_security_group_rules_of_the_primary_are_exact(plans) -> None:
    assert _rules(plans["us-east"]) == {
        ("app", "in", 8080, "10.0.96.0/22"),
        ("app", "in", 8080, "10.0.100.0/22"),
        ("app", "in", 8080, "10.0.104.0/22"),
        ("app", "out", 443, "0.0.0.0/0"),
        ("app", "out", 5432, "database"),
        ("app", "out", 6379, "redis"),
        ("app", "out", 5432, "proxy"),
        ("proxy", "in", 5432, "app"),
        ("proxy", "out", 5432, "database"),
        ("database", "in", 5432, "app"),
        ("database", "in", 5432, "proxy"),
        ("database", "in", 5432, "admin-vpn"),  # admins on the VPN reach the home database
        ("redis", "in", 6379, "app"),
    }


def test_secondary_data_tiers_also_admit_the_peer_app_subnets(plans) -> None:
    rules = _rules(plans["eu-west"])
    # The peer's three app /19s and three data /22s, collapsed to the fewest networks.
    peer_app = {"10.0.0.0/18", "10.0.64.0/19"}
    peer_data = {"10.0.112.0/21", "10.0.120.0/22"}
    assert {s for g, d, p, s in rules if g == "database" and d == "in"} == {"app", "proxy"} | peer_app
    assert {s for g, d, p, s in rules if g == "redis" and d == "in"} == {"app"} | peer_app
    assert {(p, s) for g, d, p, s in rules if g == "app" and d == "out" and s in peer_data} == \
        {(port, c) for port in (5432, 6379) for c in peer_data}


@pytest.mark.parametrize("stack", STACKS)
def test_no_internet_ingress_and_no_egress_from_data_tiers(plans, stack) -> None:
    plan = plans[stack]
    for rule in plan.find(INGRESS):
        assert rule.input("cidrIpv4") != "0.0.0.0/0", f"{rule.urn} opens ingress to the internet"
        assert rule.input("cidrIpv6") is None, rule.urn
    tiers = {g.id: g.input("tags")["tier"] for g in plan.find(SG)}
    for rule in plan.find(EGRESS):
        tier = tiers.get(rule.input("securityGroupId"), "app")
        assert tier not in ("database", "redis"), f"{rule.urn}: data tiers take no egress rules"
        if tier == "proxy":  # the pool reaches the database and nothing else
            assert tiers.get(rule.input("referencedSecurityGroupId")) == "database", rule.urn
    for group in plan.find(SG):
        assert "ingress" not in group.inputs and "egress" not in group.inputs, "rules must be standalone resources"
        # Groups reference each other: a replaced group can only go once its rules are revoked.
        assert group.input("revokeRulesOnDelete") is True, group.urn
