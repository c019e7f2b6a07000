"""VpcPeering: the mesh between each stack and every earlier one, on both sides."""

from __future__ import annotations

import pytest

from components.vpc_peering import collapse
from infra.engine import StackPlan

REQUEST = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPT = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
OPTIONS = "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions"
ROUTE = "aws:ec2/route:Route"
REGIONS = {"us-east": "us-east-1", "eu-west": "eu-west-1", "ap-se": "ap-southeast-1"}
PEERS = {"us-east": [], "eu-west": ["us-east"], "ap-se": ["us-east", "eu-west"]}


def _region(plan: StackPlan, resource) -> str:
    return plan.get(resource.provider_urn).input("region")


@pytest.mark.parametrize("stack,count", [("us-east", 0), ("eu-west", 1), ("ap-se", 2)])
def test_one_requester_and_one_accepter_per_earlier_region(plans, stack, count) -> None:
    plan = plans[stack]
    assert len(plan.find(REQUEST)) == count
    assert len(plan.find(ACCEPT)) == count
    assert len(plan.find(OPTIONS)) == 2 * count


@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_requester_here_accepter_through_the_peer_region_provider(plans, stack) -> None:
    plan = plans[stack]
    own_vpc = plan.find("aws:ec2/vpc:Vpc")[0]
    for peer in PEERS[stack]:
        peer_outputs = plans[peer].outputs
        (request,) = [r for r in plan.find(REQUEST) if r.input("peerVpcId") == peer_outputs["vpcId"]]
        assert _region(plan, request) == REGIONS[stack]
        assert request.input("vpcId") == own_vpc.id
        assert request.input("peerRegion") == REGIONS[peer]
        assert request.input("peerOwnerId") == peer_outputs["accountId"]
        assert request.input("autoAccept") is False
        (accept,) = [a for a in plan.find(ACCEPT) if a.input("vpcPeeringConnectionId") == request.id]
        assert _region(plan, accept) == REGIONS[peer]
        assert accept.input("autoAccept") is True
        options = {_region(plan, o): o for o in plan.find(OPTIONS) if o.input("vpcPeeringConnectionId") == request.id}
        assert set(options) == {REGIONS[stack], REGIONS[peer]}
        assert options[REGIONS[stack]].input("requester") == {"allowRemoteVpcDnsResolution": True}
        assert options[REGIONS[peer]].input("accepter") == {"allowRemoteVpcDnsResolution": True}
        assert accept.urn in options[REGIONS[stack]].dependencies


@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_routes_on_both_sides_hit_only_private_tables_and_only_the_peer_network(plans, stack) -> None:
    plan = plans[stack]
    own = plan.outputs
    public_tables = {a.input("routeTableId") for a in plan.find("aws:ec2/routeTableAssociation:RouteTableAssociation")
                     if a.input("subnetId") in own["publicSubnetIds"]}
    for peer in PEERS[stack]:
        theirs = plans[peer].outputs
        (request,) = [r for r in plan.find(REQUEST) if r.input("peerVpcId") == theirs["vpcId"]]
        routes = [r for r in plan.find(ROUTE) if r.input("vpcPeeringConnectionId") == request.id]
        here = [r for r in routes if _region(plan, r) == REGIONS[stack]]
        there = [r for r in routes if _region(plan, r) == REGIONS[peer]]
        assert len(here) + len(there) == len(routes)
        assert sorted(r.input("routeTableId") for r in here) == sorted(own["privateRouteTableIds"])
        assert sorted(r.input("routeTableId") for r in there) == sorted(theirs["privateRouteTableIds"])
        assert {r.input("destinationCidrBlock") for r in here} == {theirs["vpcCidr"]}
        assert {r.input("destinationCidrBlock") for r in there} == {own["vpcCidr"]}
        assert not public_tables & {r.input("routeTableId") for r in here}


def test_the_peer_side_rules_open_the_peer_data_tier_to_this_app_tier(plans) -> None:
    plan, primary = plans["eu-west"], plans["us-east"].outputs
    here = plan.outputs
    on_peer = [r for r in plan.find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.input("securityGroupId") in (primary["databaseSecurityGroupId"], primary["redisSecurityGroupId"])]
    assert {(r.input("securityGroupId"), r.input("fromPort"), r.input("cidrIpv4")) for r in on_peer} == {
        (primary[group], port, cidr)
        for group, port in (("databaseSecurityGroupId", 5432), ("redisSecurityGroupId", 6379))
        for cidr in ("10.1.0.0/18", "10.1.64.0/19")
    }
    assert collapse(here["appSubnetCidrs"]) == ["10.1.0.0/18", "10.1.64.0/19"]
    assert {_region(plan, r) for r in on_peer} == {"us-east-1"}


def test_collapse_keeps_exactly_the_same_addresses() -> None:
    assert collapse(["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]) == ["10.0.0.0/18", "10.0.64.0/19"]
    assert collapse(["10.0.112.0/22", "10.0.116.0/22", "10.0.120.0/22"]) == ["10.0.112.0/21", "10.0.120.0/22"]
    assert collapse(["10.0.0.0/19", "10.0.64.0/19"]) == ["10.0.0.0/19", "10.0.64.0/19"]  # never widened


def test_the_peering_names_the_account_that_owns_the_peer(project_copy, plans) -> None:
    from infra.engine import Engine

    deployed = dict(plans["us-east"].outputs, accountId="444455556666")
    plan = Engine(project_copy, deployed={"us-east": deployed}).plan("eu-west")
    (request,) = plan.find(REQUEST)
    assert request.input("peerOwnerId") == "444455556666"
