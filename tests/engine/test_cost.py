"""The monthly cost formula on a hand-built plan, with literal figures from the price table
(`infra/data/prices.json`: 730 hours a month, us-east-1 prices, +10 % in eu-, +15 % in ap-)."""

from __future__ import annotations

import pytest

from infra.engine.cost import estimate
from infra.engine.plan import STACK_TYPE, Resource, StackPlan


def _plan(region: str, *resources: tuple[str, dict]) -> StackPlan:
    provider = Resource(urn="urn:pulumi:s::hse::pulumi:providers:aws::home", type="pulumi:providers:aws",
                        name="home", custom=True, id="p1", inputs={"region": region})
    root = Resource(urn="urn:pulumi:s::hse::pulumi:pulumi:Stack::hse-s", type=STACK_TYPE, name="hse-s", custom=False,
                    outputs={"awsRegion": region})
    made = [Resource(urn=f"urn:pulumi:s::hse::{t}::r{i}", type=t, name=f"r{i}", custom=True, id=f"id{i}",
                     provider=f"{provider.urn}::p1", inputs=inputs) for i, (t, inputs) in enumerate(resources)]
    return StackPlan("hse", "s", [root, provider, *made])


def _items(plan: StackPlan, **kwargs) -> list[tuple[str, float]]:
    return [(what, usd) for _, what, usd in estimate(plan, **kwargs).items]


def test_us_east_1_prices_times_730_hours():
    plan = _plan("us-east-1",
                 ("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r6g.large"}),
                 ("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r6g.large"}),
                 ("aws:rds/cluster:Cluster", {}),
                 ("aws:rds/proxy:Proxy", {}),
                 ("aws:ec2/natGateway:NatGateway", {}),
                 ("aws:eks/cluster:Cluster", {}),
                 ("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["m7g.large"], "scalingConfig": {"desiredSize": 5}}),
                 ("aws:elasticache/replicationGroup:ReplicationGroup",
                  {"nodeType": "cache.r7g.large", "numNodeGroups": 3, "replicasPerNodeGroup": 1}))
    assert _items(plan) == [
        ("database instance db.r6g.large", 189.8),          # 0.26 x 730
        ("database instance db.r6g.large", 189.8),
        ("Aurora storage (100 GiB assumed)", 10.0),          # 100 x 0.10
        ("RDS Proxy", 43.8),                                 # 2 instances x 2 vCPU x 0.015 x 730
        ("NAT gateway", 32.85),                              # 0.045 x 730
        ("EKS control plane", 73.0),                         # 0.10 x 730
        ("5 nodes m7g.large", 297.84),                       # 5 x 0.0816 x 730
        ("Redis 6 × cache.r7g.large", 959.22),               # 3 x (1 + 1) x 0.219 x 730
    ]
    assert estimate(plan).total == pytest.approx(1796.31)
    assert estimate(plan).by_region == {"us-east-1": pytest.approx(1796.31)}


def test_multi_az_spot_options_and_storage():
    plan = _plan("us-east-1",
                 ("aws:rds/instance:Instance", {"instanceClass": "db.m6g.large", "multiAz": True, "allocatedStorage": 200}),
                 ("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["m7g.large"], "capacityType": "SPOT",
                                                  "scalingConfig": {"desiredSize": 3}}),
                 ("aws:route53/healthCheck:HealthCheck", {"type": "HTTPS", "measureLatency": True, "requestInterval": 10}),
                 ("aws:route53/healthCheck:HealthCheck", {"type": "HTTP", "requestInterval": 30}),
                 ("aws:secretsmanager/secret:Secret", {"replicas": [{"region": "eu-west-1"}, {"region": "ap-southeast-1"}]}),
                 ("aws:wafv2/webAcl:WebAcl", {"rules": [{}, {}, {}]}))
    assert _items(plan) == [
        ("database instance db.m6g.large (Multi-AZ)", 221.92),  # 2 x 0.152 x 730
        ("database storage", 23.0),                             # 200 x 0.115
        ("3 nodes m7g.large (spot)", 62.55),                    # 3 x 0.35 x 0.0816 x 730
        ("health check", 6.75),                                 # 0.75 + 3 options x 2.00
        ("health check", 0.75),
        ("secret", 1.2),                                        # 0.40 x (1 + 2 replicas)
        ("WAF web ACL", 8.0),                                   # 5 + 3 rules x 1
    ]


@pytest.mark.parametrize("region,factor", [("us-east-1", 1.0), ("eu-west-1", 1.1), ("ap-southeast-1", 1.15),
                                           ("sa-east-1", 1.3)])
def test_the_regional_premium(region, factor):
    plan = _plan(region, ("aws:eks/cluster:Cluster", {}))
    assert estimate(plan).by_region == {region: pytest.approx(round(73.0 * factor, 2))}


def test_an_unknown_size_is_counted_as_zero_and_reported():
    plan = _plan("us-east-1", ("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.x99.huge"}))
    result = estimate(plan)
    assert (result.total, result.unpriced) == (0.0, {"db.x99.huge"})


def test_storage_comes_from_the_config():
    plan = _plan("us-east-1", ("aws:rds/cluster:Cluster", {}))
    assert _items(plan, storage_gib=250) == [("Aurora storage (250 GiB assumed)", 25.0)]


def test_the_proxy_counts_the_instances_behind_it_even_when_recorded_before_them(plans):
    # A proxy depends on its cluster, not on the instances: the primary's plan records it first.
    plan = _plan("us-east-1", ("aws:rds/proxy:Proxy", {}),
                 ("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r6g.large"}),
                 ("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r6g.xlarge"}))
    assert _items(plan)[0] == ("RDS Proxy", 65.7)   # (2 + 4) vCPU x 0.015 x 730
    us_east = plans["us-east"]
    order = [r.type for r in us_east.managed() if r.type in ("aws:rds/proxy:Proxy", "aws:rds/clusterInstance:ClusterInstance")]
    assert order[0] == "aws:rds/proxy:Proxy"
    assert [usd for _, what, usd in estimate(us_east).items if what == "RDS Proxy"] == [43.8]  # 2 x 2 vCPU x 0.015 x 730


@pytest.mark.parametrize("usd, shown", [(0, "$0"), (0.2, "$0.20"), (0.99, "$0.99"), (1, "$1"), (1.49, "$1"),
                                        (2036.6, "$2,037")])
def test_money_shows_whole_dollars_unless_that_would_hide_a_charge(usd, shown):
    from infra.engine.summary import money

    assert money(usd) == shown


def _datastore_plans(member_replicas: int) -> list[StackPlan]:
    """A primary stack with two replication groups, only the second the datastore's primary,
    and a secondary whose member joins that datastore."""
    primary = _plan("us-east-1",
                    ("aws:elasticache/replicationGroup:ReplicationGroup",
                     {"nodeType": "cache.r7g.xlarge", "numNodeGroups": 5, "replicasPerNodeGroup": 3}),
                    ("aws:elasticache/replicationGroup:ReplicationGroup",
                     {"nodeType": "cache.r7g.large", "numNodeGroups": 3, "replicasPerNodeGroup": 1}),
                    ("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
                     {"primaryReplicationGroupId": "id1"}))
    primary.find("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")[0].outputs = \
        {"globalReplicationGroupId": "ldgnf-sessions"}
    member = _plan("eu-west-1", ("aws:elasticache/replicationGroup:ReplicationGroup",
                                 {"globalReplicationGroupId": "ldgnf-sessions",
                                  "replicasPerNodeGroup": member_replicas}))
    return [primary, member]


def test_a_member_is_priced_by_the_datastores_primary_and_its_own_replicas():
    from infra.engine.datastore import datastore_primary

    primary, member = _datastore_plans(member_replicas=2)
    assert datastore_primary("ldgnf-sessions", [member, primary]).name == "r1"
    assert datastore_primary("other", [member, primary]) is None
    assert datastore_primary("", [member, primary]) is None
    # 3 shards of the primary's cache.r7g.large x (1 + the member's 2 replicas), +10 % in eu-west-1.
    assert _items(member, peers=[primary, member]) == [
        ("Redis 9 × cache.r7g.large (Global Datastore member)", round(9 * 0.219 * 730 * 1.10, 2))]
