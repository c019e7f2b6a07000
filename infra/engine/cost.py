"""An estimate of a plan's monthly cost per region, from the declared resources and the
price table `infra/data/prices.json` (its date and source are in the file).

Only what the plan fixes is priced: instance classes and counts, nodes, NAT gateways,
load balancers, Redis nodes, proxies, VPN associations, zones, health checks, keys,
secrets, alarms, dashboards, the WAF, and storage from the config. Usage (data
transfer, requests, I/O) is not, so the figure is a floor and says so; what the plan
declares that is charged per use only (image optimization at the edge) is listed beside
the figure with its price (`per_use`). A region without
its own price takes the us-east-1 price times the spec's regional premium (EU West about
+10 %, AP Southeast about +15 %).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from infra.domain.image_variants import HANDLER_NAME as IMAGE_HANDLER
from infra.engine.datastore import datastore_primary
from infra.engine.plan import Resource, StackPlan

PRICES = Path(__file__).parents[1] / "data" / "prices.json"


@functools.lru_cache(maxsize=1)
def prices() -> dict:
    return json.loads(PRICES.read_text())


@dataclass
class Estimate:
    """Monthly USD per region, and the priced items behind each figure."""

    by_region: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    items: list[tuple[str, str, float]] = field(default_factory=list)
    """(region, what, monthly USD)."""
    unpriced: set[str] = field(default_factory=set)
    """Sizes the table has no price for (counted as zero, and reported)."""
    per_use: list[tuple[str, str]] = field(default_factory=list)
    """(what, its price) for what the plan declares that costs per use only: not in the totals."""

    @property
    def total(self) -> float:
        return sum(self.by_region.values())


def premium(region: str) -> float:
    return next((factor for start, factor in prices()["regionalPremium"].items() if region.startswith(start)), 1.0)


def estimate(plan: StackPlan, storage_gib: int = 100, peers: Iterable[StackPlan] = ()) -> Estimate:
    """The monthly estimate of one stack's plan; `storage_gib` sizes database storage.

    A Global Datastore member takes its node type and shard count from the datastore's
    primary replication group, found in `peers` (the other stacks' plans); without that
    plan the member is listed as unpriced rather than guessed."""
    table = prices()
    hours, hourly, monthly = table["hoursPerMonth"], table["hourly"], table["monthly"]
    result = Estimate()

    def add(resource: Resource, what: str, usd: float) -> None:
        # Kubernetes objects have no AWS region: they run in the stack's.
        region = plan.get(resource.provider_urn).input("region") or plan.outputs.get("awsRegion", "global")
        amount = round(usd * premium(region), 2)
        result.by_region[region] += amount
        result.items.append((region, what, amount))

    def per_hour(kind: str, size: str) -> float:
        price = hourly[kind].get(size)
        if price is None:
            result.unpriced.add(size)
            return 0.0
        return price * hours

    # RDS Proxy is billed per vCPU of the instances behind it, wherever the plan lists them
    # (a proxy is often recorded before its instances: it depends on the cluster, not on them).
    database_vcpus: dict[str, int] = defaultdict(int)
    for r in plan.managed():
        if r.type in ("aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"):
            database_vcpus[plan.get(r.provider_urn).urn] += table["vcpus"].get(r.input("instanceClass").rsplit(".", 1)[-1], 2)
    for r in plan.managed():
        t = r.type
        if t in ("aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"):
            size = r.input("instanceClass")
            copies = 2 if r.input("multiAz") else 1
            add(r, f"database instance {size}" + (" (Multi-AZ)" if copies == 2 else ""), copies * per_hour("rds", size))
            if t == "aws:rds/instance:Instance":
                add(r, "database storage", (r.input("allocatedStorage") or storage_gib) * monthly["rdsStoragePerGib"])
        elif t == "aws:rds/cluster:Cluster":
            add(r, f"Aurora storage ({storage_gib} GiB assumed)", storage_gib * monthly["auroraStoragePerGib"])
        elif t == "aws:elasticache/replicationGroup:ReplicationGroup":
            shape = r
            if r.input("globalReplicationGroupId") and r.input("nodeType") is None:
                shape = datastore_primary(r.input("globalReplicationGroupId"), peers)
                if shape is None:
                    result.unpriced.add("Global Datastore member (its size is its primary's, in a stack not planned here)")
                    continue
            # Shards and node type are the datastore's; the replicas are each member's own.
            nodes = int(shape.input("numNodeGroups") or 1) * (1 + int(r.input("replicasPerNodeGroup") or 0))
            size = shape.input("nodeType")
            add(r, f"Redis {nodes} × {size}" + (" (Global Datastore member)" if shape is not r else ""),
                nodes * per_hour("elasticache", size))
        elif t == "aws:ec2/natGateway:NatGateway":
            add(r, "NAT gateway", hourly["natGateway"] * hours)
        elif t == "kubernetes:core/v1:Service" and (r.input("spec") or {}).get("type") == "LoadBalancer":
            add(r, "network load balancer", hourly["networkLoadBalancer"] * hours)
        elif t == "aws:eks/cluster:Cluster":
            add(r, "EKS control plane", hourly["eksCluster"] * hours)
        elif t == "aws:eks/nodeGroup:NodeGroup":
            size = (r.input("instanceTypes") or ["?"])[0]
            nodes = int((r.input("scalingConfig") or {}).get("desiredSize") or 0)
            spot = 0.35 if r.input("capacityType") == "SPOT" else 1.0
            add(r, f"{nodes} nodes {size}" + (" (spot)" if spot < 1 else ""), nodes * spot * per_hour("ec2", size))
        elif t == "aws:ec2clientvpn/networkAssociation:NetworkAssociation":
            add(r, "client VPN association", hourly["clientVpnAssociation"] * hours)
        elif t == "aws:route53/zone:Zone":
            add(r, "hosted zone", monthly["hostedZone"])
        elif t == "aws:route53/healthCheck:HealthCheck":
            options = (r.input("type") == "HTTPS") + bool(r.input("measureLatency")) + (r.input("requestInterval") == 10)
            add(r, "health check", monthly["healthCheck"] + options * monthly["healthCheckOption"])
        elif t in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            add(r, "KMS key", monthly["kmsKey"])
        elif t == "aws:secretsmanager/secret:Secret":
            add(r, "secret", monthly["secret"] * (1 + len(r.input("replicas") or [])))
        elif t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            add(r, "alarm", monthly["alarm"])
        elif t == "aws:cloudwatch/dashboard:Dashboard":
            add(r, "dashboard", monthly["dashboard"])
        elif t == "aws:wafv2/webAcl:WebAcl":
            add(r, "WAF web ACL", monthly["webAcl"] + len(r.input("rules") or []) * monthly["webAclRule"])
        elif t == "aws:lambda/function:Function" and r.input("handler") == IMAGE_HANDLER:
            images = table["imageOptimization"]
            gb = int(r.input("memorySize") or 128) / 1024
            per_million = images["lambdaEdgePerMillionRequests"] + gb * 1_000_000 * images["lambdaEdgePerGbSecond"]
            result.per_use.append((
                "CloudFront image variants (Lambda@Edge)",
                f"${images['lambdaEdgePerMillionRequests']:.2f} per million variants made + "
                f"${images['lambdaEdgePerGbSecond']:.8f} per GB-second: about ${per_million:.2f} per million at "
                f"{r.input('memorySize')} MB and 1 s each; variants are made once per edge cache, not per view"))
        elif t == "cloudflare:index/zoneSetting:ZoneSetting" and r.input("settingId") == "image_resizing" \
                and r.input("value") != "off":
            images = table["imageOptimization"]
            result.per_use.append((
                "Cloudflare image transformations",
                f"{images['cloudflareFreeTransformations']:,} unique transformations a month free, then "
                f"${images['cloudflarePerThousandTransformations']:.2f} per 1,000"))
        elif t == "fastly:index/serviceVcl:ServiceVcl" and (r.input("productEnablement") or {}).get("imageOptimizer"):
            result.per_use.append(("Fastly Image Optimizer", "priced by contract (an optional upgrade of the service; "
                                                             "AVIF output is a premium feature)"))
            result.unpriced.add("Fastly Image Optimizer")
        elif t == "aws:rds/proxy:Proxy":
            # Billed per vCPU of the instances behind it: those of its own region's provider.
            add(r, "RDS Proxy", database_vcpus.get(plan.get(r.provider_urn).urn, 2) * hourly["rdsProxyPerVcpu"] * hours)
    return result
