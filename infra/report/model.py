"""The architecture the plans declare, as plain data: nodes and edges, no drawing.

Everything is read from the recorded plans, never from the stack names: a region is a
plan with a VPC, the peering mesh comes from the `VpcPeeringConnection` resources (the
VPC ids on both ends), the global database from the `GlobalCluster` and the clusters
that join it (or, on RDS PostgreSQL, the instances' `replicateSourceDb`), Redis from the
replication groups, and the edge (hosted zone, CDN, geolocation routing, health checks)
from the Route53 and CDN resources and the `routingTable` output. A fourth stack file
therefore adds a fourth region to the picture by itself.

Each node and edge lists the URNs of the resources it stands for, so a plan diff can
mark what a change creates, updates or deletes (`mark_changes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from infra.engine.diff import StackDiff
from infra.engine.plan import StackPlan

VPC = "aws:ec2/vpc:Vpc"
PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
DB_CLUSTER = "aws:rds/cluster:Cluster"
DB_INSTANCE = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
ZONE = "aws:route53/zone:Zone"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
EKS = "aws:eks/cluster:Cluster"

# Which node of its region (or of the global edge) a resource belongs to, by type prefix:
# used to mark a change on the diagram. Anything unlisted marks the region's workloads.
_KIND_BY_PREFIX = (
    ("aws:ec2/vpcPeering", "vpc"), ("aws:ec2/", "vpc"), ("aws:cloudwatch/logGroup", "vpc"),
    ("aws:rds/globalCluster", "global-database"), ("aws:rds/", "database"), ("aws:backup/", "database"),
    ("aws:secretsmanager/", "database"),
    ("aws:elasticache/", "cache"),
    ("aws:route53/healthCheck", "health-check"), ("aws:route53/", "dns"),
    ("aws:cloudfront/", "cdn"), ("aws:wafv2/", "cdn"), ("aws:acm/", "cdn"), ("cloudflare:", "cdn"), ("fastly:", "cdn"),
)
STATUSES = ("create", "update", "replace", "delete")
SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


@dataclass(frozen=True)
class Region:
    stack: str
    aws_region: str
    role: str
    cidr: str
    deploy_order: int
    app_instances: int


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    """vpc, database, global-database, cache, health-check, app, dns or cdn."""
    label: str
    stack: str = ""
    """The region it belongs to; empty for the global pieces."""
    urns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    """peering (undirected), replication (primary -> secondary), member (cluster -> its global database),
    routing (DNS -> region), origin (CDN -> DNS), checks (health check -> region),
    uses (workloads -> database / cache)."""
    label: str = ""
    urns: tuple[str, ...] = ()


@dataclass
class Architecture:
    regions: list[Region]
    nodes: list[Node]
    edges: list[Edge]
    status: dict[str, str] = field(default_factory=dict)
    """Node or edge id (`source->target`) -> create / update / replace / delete, after `mark_changes`."""
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    """Node or edge id -> how many of its resources each step touches, after `mark_changes`."""

    def mark_text(self, id_: str) -> str:
        """`+1 ~2 +-1`-style counts of a marked node or edge (only the steps it has)."""
        counts = self.changes.get(id_, {})
        return " ".join(f"{SIGNS[s]}{counts[s]}" for s in STATUSES if counts.get(s))

    def node(self, id_: str) -> Node:
        return next(n for n in self.nodes if n.id == id_)

    def of_kind(self, kind: str) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind]

    def edges_of(self, kind: str) -> list[Edge]:
        return [e for e in self.edges if e.kind == kind]

    def region(self, stack: str) -> Region:
        return next(r for r in self.regions if r.stack == stack)


def node_id(stack: str, kind: str) -> str:
    return f"{stack}:{kind}" if stack else kind


def edge_id(edge: Edge) -> str:
    return f"{edge.source}->{edge.target}"


def kind_of(type_: str) -> str:
    """The diagram node a resource of this type belongs to."""
    return next((kind for prefix, kind in _KIND_BY_PREFIX if type_.startswith(prefix)), "app")


def _continent_summary(stack: str, table: dict) -> str:
    continents = [c for c, s in (table.get("continents") or {}).items() if s == stack]
    overrides = sum(1 for s in (table.get("overrides") or {}).values() if s == stack)
    parts = []
    if continents:
        parts.append(", ".join(continents))
    if overrides:
        parts.append(f"+{overrides} countries")
    if table.get("default") == stack:
        parts.append("default")
    return "geo: " + " ".join(parts) if parts else "latency member"


def build(plans: Iterable[StackPlan]) -> Architecture:
    """The architecture of a set of stack plans (in any order)."""
    plans = sorted((p for p in plans if p.find(VPC)), key=lambda p: int(p.outputs.get("deployOrder", 0)))
    regions, nodes, edges = [], [], []
    vpc_stack: dict[str, str] = {}
    for plan in plans:
        out = plan.outputs
        vpc = plan.find(VPC)[0]
        vpc_stack[vpc.id] = plan.stack
        region = Region(plan.stack, str(out.get("awsRegion", "")), str(out.get("role", "")),
                        str(vpc.input("cidrBlock")), int(out.get("deployOrder", 0)),
                        int(out.get("appInstanceCount", 0)))
        regions.append(region)
        nodes.append(Node(node_id(plan.stack, "vpc"), "vpc", f"VPC {region.cidr}", plan.stack, (vpc.urn,)))
        eks = plan.find(EKS)
        nodes.append(Node(node_id(plan.stack, "app"), "app",
                          f"workloads · {region.app_instances} app instances" + (" on EKS" if eks else ""),
                          plan.stack, tuple(r.urn for r in eks)))

        clusters = plan.find(DB_CLUSTER)
        instances = plan.find(DB_INSTANCE)
        if clusters:
            cluster = clusters[0]
            secondary = cluster.input("globalClusterIdentifier") and not plan.find(GLOBAL_CLUSTER)
            label = f"Aurora {cluster.input('engine', '').replace('aurora-', '')} · " + (
                "read-only secondary" if secondary else "writer")
            nodes.append(Node(node_id(plan.stack, "database"), "database", label, plan.stack, (cluster.urn,)))
        elif instances:
            label = "RDS PostgreSQL · " + ("read replica" if instances[0].input("replicateSourceDb") else "writer")
            nodes.append(Node(node_id(plan.stack, "database"), "database", label, plan.stack,
                              tuple(r.urn for r in instances)))

        for group in plan.find(REDIS):
            shards, replicas = int(group.input("numNodeGroups") or 1), int(group.input("replicasPerNodeGroup") or 0)
            nodes.append(Node(node_id(plan.stack, "cache"), "cache",
                              f"Redis {shards} shards × {replicas} replica · {group.input('nodeType')}",
                              plan.stack, (group.urn,)))
            edges.append(Edge(node_id(plan.stack, "app"), node_id(plan.stack, "cache"), "uses"))
        if any(n.id == node_id(plan.stack, "database") for n in nodes):
            edges.append(Edge(node_id(plan.stack, "app"), node_id(plan.stack, "database"), "uses"))

        for check in plan.find(HEALTH_CHECK):
            nodes.append(Node(node_id(plan.stack, "health-check"), "health-check",
                              f"health check {check.input('resourcePath')} · "
                              f"{check.input('requestInterval')} s × {check.input('failureThreshold')}",
                              plan.stack, (check.urn,)))
            edges.append(Edge(node_id(plan.stack, "health-check"), node_id(plan.stack, "app"), "checks"))
            break

    # The peering mesh: each connection joins the VPCs its two ids name.
    for plan in plans:
        for peering in plan.find(PEERING):
            a, b = vpc_stack.get(peering.input("vpcId")), vpc_stack.get(peering.input("peerVpcId"))
            if a and b:
                edges.append(Edge(node_id(a, "vpc"), node_id(b, "vpc"), "peering",
                                  f"peering · {peering.input('peerRegion') or ''}".rstrip(" ·"), (peering.urn,)))

    # The global database: its owner's cluster replicates to every cluster that joins it.
    for plan in plans:
        for global_cluster in plan.find(GLOBAL_CLUSTER):
            identifier = global_cluster.input("globalClusterIdentifier")
            nodes.append(Node("global-database", "global-database",
                              f"Aurora global database · {identifier}", "", (global_cluster.urn,)))
            members = [(p.stack, c) for p in plans for c in p.find(DB_CLUSTER)
                       if c.input("globalClusterIdentifier") == identifier]
            for stack, _ in members:
                edges.append(Edge(node_id(stack, "database"), "global-database", "member"))
            for stack, cluster in members:
                if stack != plan.stack:
                    edges.append(Edge(node_id(plan.stack, "database"), node_id(stack, "database"), "replication",
                                      "storage replication", (cluster.urn,)))
    # RDS PostgreSQL: each read replica names its source's ARN.
    arn_stack = {i.output("arn"): p.stack for p in plans for i in p.find(DB_INSTANCE) if i.output("arn")}
    for plan in plans:
        for replica in plan.find(DB_INSTANCE):
            source = arn_stack.get(replica.input("replicateSourceDb"))
            if source and source != plan.stack:
                edges.append(Edge(node_id(source, "database"), node_id(plan.stack, "database"), "replication",
                                  "streaming replication", (replica.urn,)))

    # The edge: the hosted zone with its geolocation routing, and the CDN in front.
    table = next((p.outputs.get("routingTable") for p in plans if p.outputs.get("routingTable")), {}) or {}
    zone = next((z for p in plans for z in p.find(ZONE)), None)
    domain = next((str(p.outputs.get("domain")) for p in plans if p.outputs.get("domain")), "")
    if zone is not None or domain:
        records = tuple(r.urn for p in plans for r in p.find(RECORD))
        nodes.append(Node("dns", "dns", f"Route53 {domain or zone.input('name')} · geolocation + failover",
                          "", ((zone.urn,) if zone is not None else ()) + records))
        for region in regions:
            edges.append(Edge("dns", node_id(region.stack, "app"), "routing",
                              _continent_summary(region.stack, table)))
    cdn = [r for p in plans for r in p.managed() if (kind_of(r.type) == "cdn" and r.type.endswith(
        ("Distribution", "Ruleset", "ServiceVcl", "Record"))) or "CdnDistribution$aws:lambda/function" in r.urn] \
        if plans else []
    provider = next((str(p.outputs.get("cdnProvider")) for p in plans if p.outputs.get("cdnProvider")), "")
    cdn_domain = next((str(p.outputs.get("cdnDomain")) for p in plans if p.outputs.get("cdnDomain")), "")
    images = next((p.outputs.get("cdnRules", {}).get("images") for p in plans
                   if isinstance(p.outputs.get("cdnRules"), dict)), None) or {}
    if provider:
        label = f"CDN ({provider}) · {cdn_domain}".rstrip(" ·")
        if images.get("enabled"):
            label += (f" · images: {', '.join(images['formats'])}, "
                      f"{len(images['widths'])} widths ≤ {max(images['widths'])} px")
        nodes.append(Node("cdn", "cdn", label, "", tuple(r.urn for r in cdn)))
        if any(n.id == "dns" for n in nodes):
            edges.append(Edge("cdn", "dns", "origin", "origin app." + domain if domain else "origin"))
    return Architecture(regions, nodes, edges)


def mark_changes(arch: Architecture, diffs: Iterable[StackDiff]) -> dict[str, dict[str, int]]:
    """Count, per node and edge, the resources a diff creates, updates, replaces or deletes
    (`arch.changes`), and mark each (`arch.status`) by what happens to it as a whole.

    A resource counts on the node it stands for, else on the node of its kind in its stack
    (`kind_of`). A node is marked `create` only when every resource it stands for is new
    (a new region's, say); one new rule, or one deleted record, in a node that stays is an
    `update` of it, shown with its counts (`mark_text`); any replacement marks it `replace`.
    Returns node id -> counts per step (nodes only).
    """
    by_urn = {u: n.id for n in arch.nodes for u in n.urns}
    edge_by_urn = {u: edge_id(e) for e in arch.edges for u in e.urns}
    members = {n.id: set(n.urns) for n in arch.nodes} | {edge_id(e): set(e.urns) for e in arch.edges}
    created: dict[str, set[str]] = {}
    known = {n.id for n in arch.nodes}
    tally: dict[str, dict[str, int]] = {}

    def count(target: str, status: str, urn: str) -> None:
        arch.changes.setdefault(target, {s: 0 for s in STATUSES})[status] += 1
        if status == "create":
            created.setdefault(target, set()).add(urn)

    for diff in diffs:
        for status, change in diff.steps():
            if change.urn in edge_by_urn:
                count(edge_by_urn[change.urn], status, change.urn)
            kind = kind_of(change.type)
            target: Optional[str] = by_urn.get(change.urn)
            if target is None:
                target = kind if kind in ("dns", "cdn", "global-database") else node_id(diff.stack, kind)
            if target not in known:
                target = node_id(diff.stack, "app")
            if target not in known:
                continue  # a stack without a region on the diagram (its file was removed)
            count(target, status, change.urn)
            tally.setdefault(target, {s: 0 for s in STATUSES})[status] += 1
    for target, counts in arch.changes.items():
        # Every node and edge drawn is in the new plan: it is new when all it stands for is.
        new = bool(members.get(target)) and members[target] <= created.get(target, set())
        arch.status[target] = "create" if new else "replace" if counts["replace"] else "update"
    return tally
