"""The diagram's nodes and edges come from the plans, not from the stack names."""

from __future__ import annotations

from infra.report import model
from infra.report.diagram import to_dot


def pairs(arch, kind):
    return {frozenset((e.source.split(":")[0], e.target.split(":")[0])) for e in arch.edges_of(kind)}


def test_three_vpcs_with_their_cidrs(plans):
    arch = model.build(plans.values())
    assert {(n.stack, n.label) for n in arch.of_kind("vpc")} == {
        ("us-east", "VPC 10.0.0.0/16"), ("eu-west", "VPC 10.1.0.0/16"), ("ap-se", "VPC 10.2.0.0/16")}
    assert [(r.stack, r.aws_region, r.role) for r in arch.regions] == [
        ("us-east", "us-east-1", "primary"), ("eu-west", "eu-west-1", "secondary"),
        ("ap-se", "ap-southeast-1", "secondary")]


def test_peering_mesh_from_the_peering_connections(plans):
    arch = model.build(plans.values())
    assert len(arch.edges_of("peering")) == 3
    assert pairs(arch, "peering") == {frozenset(("us-east", "eu-west")), frozenset(("us-east", "ap-se")),
                                      frozenset(("eu-west", "ap-se"))}
    for edge in arch.edges_of("peering"):
        # The requester is the later stack; its edge names the connection it stands for.
        assert edge.urns and all("vpcPeeringConnection:VpcPeeringConnection" in u for u in edge.urns)


def test_one_global_cluster_replicating_to_two_secondaries(plans):
    arch = model.build(plans.values())
    assert [n.label for n in arch.of_kind("global-database")] == [
        "Aurora global database · hse-production-us-east-global"]
    assert {(e.source, e.target) for e in arch.edges_of("replication")} == {
        ("us-east:database", "eu-west:database"), ("us-east:database", "ap-se:database")}
    assert {e.source for e in arch.edges_of("member")} == {"us-east:database", "eu-west:database", "ap-se:database"}
    assert arch.node("us-east:database").label.endswith("writer")
    assert arch.node("eu-west:database").label.endswith("read-only secondary")


def test_redis_health_checks_dns_and_cdn(plans):
    arch = model.build(plans.values())
    assert {n.stack for n in arch.of_kind("cache")} == {"us-east", "eu-west", "ap-se"}
    assert all(n.label == "Redis 3 shards × 1 replica · cache.r7g.large" for n in arch.of_kind("cache"))
    assert {n.label for n in arch.of_kind("health-check")} == {"health check /api/health · 30 s × 3"}
    assert arch.node("cdn").label == ("CDN (cloudfront) · www.hse-digital.example.com · images: avif, webp, "
                                      "5 widths ≤ 1920 px")
    transform = plans["us-east"].one("aws:lambda/function:Function", "hse-us-east-cdn-image-transform")
    assert transform.urn in arch.node("cdn").urns
    assert [(e.source, e.target) for e in arch.edges_of("origin")] == [("cdn", "dns")]
    routing = {e.target: e.label for e in arch.edges_of("routing")}
    assert routing["us-east:app"].startswith("geo: SA, NA") and routing["us-east:app"].endswith("default")
    assert routing["eu-west:app"].startswith("geo: EU, AF")
    assert routing["ap-se:app"].startswith("geo: AS, OC")


def test_a_fourth_stack_file_adds_a_fourth_region(four_region_plans):
    arch = model.build(four_region_plans.values())
    assert [r.stack for r in arch.regions] == ["us-east", "eu-west", "ap-se", "au"]
    assert arch.node("au:vpc").label == "VPC 10.3.0.0/16"
    assert pairs(arch, "peering") == {frozenset(("us-east", "eu-west")), frozenset(("us-east", "ap-se")),
                                      frozenset(("eu-west", "ap-se")), frozenset(("au", "us-east")),
                                      frozenset(("au", "eu-west")), frozenset(("au", "ap-se"))}
    assert {e.target for e in arch.edges_of("replication")} == {"eu-west:database", "ap-se:database",
                                                                "au:database"}
    assert {n.stack for n in arch.of_kind("cache")} == {"us-east", "eu-west", "ap-se", "au"}
    assert "au:app" in {e.target for e in arch.edges_of("routing")}
    dot = to_dot(arch).source
    assert "cluster_au" in dot and "ap-southeast-2" in dot


def test_diff_marks_the_nodes_and_edges_it_touches(plans, report_diffs):
    arch = model.build(plans.values())
    tally = model.mark_changes(arch, report_diffs)
    peering = next(e for e in arch.edges_of("peering") if e.source == "eu-west:vpc")
    # One new or deleted resource in a node that stays marks it updated, with its counts;
    # the peering edge stands for the one connection, which is new.
    assert arch.status == {"us-east:cache": "update", model.edge_id(peering): "create", "eu-west:vpc": "update",
                           "ap-se:health-check": "update"}
    assert tally["us-east:cache"] == {"create": 0, "update": 1, "replace": 0, "delete": 0}
    assert arch.mark_text("eu-west:vpc") == "+1" and arch.mark_text("ap-se:health-check") == "-1"
    assert arch.mark_text(model.edge_id(peering)) == "+1"


def test_a_node_is_created_only_when_everything_it_stands_for_is_new_and_replaced_when_anything_is(plans):
    from infra.engine.diff import diff_exports

    arch = model.build(plans.values())
    cache = arch.node("us-east:cache")
    old = plans["us-east"].to_export()
    old["deployment"]["resources"] = [r for r in old["deployment"]["resources"] if r["urn"] not in cache.urns]
    model.mark_changes(arch, [diff_exports("us-east", old, plans["us-east"].to_export())])
    assert arch.status["us-east:cache"] == "create" and arch.mark_text("us-east:cache") == f"+{len(cache.urns)}"
    arch = model.build(plans.values())
    old = plans["us-east"].to_export()
    group = next(r for r in old["deployment"]["resources"]
                 if r["type"] == "aws:elasticache/replicationGroup:ReplicationGroup")
    group["inputs"]["replicationGroupId"] = "hse-us-east-cache-old"
    model.mark_changes(arch, [diff_exports("us-east", old, plans["us-east"].to_export())])
    assert arch.status["us-east:cache"] == "replace" and "+-1" in arch.mark_text("us-east:cache")


def test_kind_of_routes_resources_to_their_node():
    assert model.kind_of("aws:ec2/subnet:Subnet") == "vpc"
    assert model.kind_of("aws:rds/clusterInstance:ClusterInstance") == "database"
    assert model.kind_of("aws:rds/globalCluster:GlobalCluster") == "global-database"
    assert model.kind_of("aws:route53/healthCheck:HealthCheck") == "health-check"
    assert model.kind_of("aws:route53/record:Record") == "dns"
    assert model.kind_of("kubernetes:apps/v1:Deployment") == "app"
