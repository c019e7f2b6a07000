"""The edge of one stack, composed from the primary's edge settings: the hosted zone (the
primary creates or references it), this region's health check and DNS records, and, on
the primary, the CDN.

Every stack reads only stacks that deploy before it: the zone id comes from the
primary's outputs, and every record a stack declares points at its own region.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.cdn_distribution import CdnArgs, CdnDistribution
from components.geo_dns import GeoDns, GeoDnsArgs, TenantRecord
from infra.domain import cdn_rules, rto, tenant_routes
from infra.config import EdgeConfig, StackConfig
from infra.domain.contract import RegionExports
from infra.domain.naming import APP_LABEL, GLOBAL_REGION, NEAREST_LABEL, host, prefix
from infra.tiers.providers import RegionalProviders
from infra.domain.routing_table import RoutingTable



def tenant_records(edge: EdgeConfig, routing: RoutingTable, stack: str) -> list[TenantRecord]:
    """The tenant records `stack` declares: PRIMARY where the tenant prefers it, SECONDARY
    where it is the tenant's fallback (the region nearest the preferred one, inside the
    tenant's residency zone; none when the zone holds no other region)."""
    records = []
    for route in tenant_plan(edge, routing):
        if route["stack"] == stack:
            records.append(TenantRecord(route["tenant"], "PRIMARY"))
        elif route["fallback"] == stack:
            records.append(TenantRecord(route["tenant"], "SECONDARY"))
    return records


def tenant_plan(edge: EdgeConfig, routing: RoutingTable) -> list[dict]:
    """Every tenant route with its fallback region (the `tenantRoutes` output; an empty
    zone: served anywhere; an empty fallback: no region to fail over to)."""
    plan = []
    for entry in edge.tenant_routing:
        route, _ = tenant_routes.parse(entry)
        assert route is not None, "validated in infra/config/"
        plan.append({"tenant": route.tenant, "stack": route.stack, "zone": route.zone or "",
                     "fallback": routing.fallback(route.stack, route.zone) or ""})
    return plan


def dnssec_key_policy(account_id: str) -> str:
    """Root administers the signing key; Route53's DNSSEC service signs with it for this account's zones."""
    source = {"aws:SourceAccount": account_id}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RootAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Route53DnssecSigns", "Effect": "Allow", "Principal": {"Service": "dnssec-route53.amazonaws.com"},
         "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"], "Resource": "*",
         "Condition": {"StringEquals": source, "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"}}},
        {"Sid": "Route53DnssecGrants", "Effect": "Allow", "Principal": {"Service": "dnssec-route53.amazonaws.com"},
         "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": source}}]})


def _sign_zone(name: str, zone: aws.route53.Zone, account_id: str, provider: aws.Provider) -> None:
    """DNSSEC for the zone the primary creates: a key-signing key from an asymmetric KMS key
    in us-east-1 (where Route53 requires it), then signing. The parent zone or registrar
    must then publish the DS record (docs/edge.md)."""
    key = aws.kms.Key(f"{name}-dnssec-key", description="HSE platform DNSSEC key-signing key (Route53)",
                      customer_master_key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY", deletion_window_in_days=30,
                      policy=dnssec_key_policy(account_id), opts=pulumi.ResourceOptions(provider=provider))
    ksk = aws.route53.KeySigningKey(f"{name}-ksk", hosted_zone_id=zone.zone_id, key_management_service_arn=key.arn,
                                    name="hse", status="ACTIVE", opts=pulumi.ResourceOptions(provider=provider))
    aws.route53.HostedZoneDnsSec(f"{name}-dnssec", hosted_zone_id=ksk.hosted_zone_id, signing_status="SIGNING",
                                 opts=pulumi.ResourceOptions(provider=provider, depends_on=[ksk]))


def build_edge_tier(cfg: StackConfig, edge: EdgeConfig, providers: RegionalProviders, routing: RoutingTable,
                    primary_exports: Optional[RegionExports], engine: str, alarm_topic_arn: Any,
                    latency_alarm_ms: int, archive_days: int, account_id: str) -> dict[str, Any]:
    """Declare the edge; return its stack outputs. Its alarms (in us-east-1) notify
    `alarm_topic_arn`, a topic in us-east-1."""
    name = prefix(cfg.stack)
    home = pulumi.ResourceOptions(provider=providers.home)
    if not cfg.is_primary:
        assert primary_exports is not None, "a secondary reads the primary (infra/tiers/peers.py)"
        zone_id: pulumi.Input[str] = primary_exports.hosted_zone_id
    elif edge.hosted_zone_id:
        zone_id = edge.hosted_zone_id
    else:
        zone = aws.route53.Zone(f"{name}-zone", name=edge.domain, force_destroy=False,
                                comment=f"HSE Digital platform ({cfg.environment}): geolocation routing, managed by Pulumi",
                                # Deleting the zone would take the platform off the internet and
                                # change its name servers: `pulumi destroy` must not do it by accident.
                                opts=pulumi.ResourceOptions(provider=providers.home, protect=True))
        zone_id = zone.zone_id
        _sign_zone(name, zone, account_id, providers.aws(GLOBAL_REGION))

    dns = GeoDns(f"{name}-dns", GeoDnsArgs(
        stack=cfg.stack, aws_region=cfg.aws_region, domain=edge.domain, zone_id=zone_id,
        interval=edge.health_check_interval, failure_threshold=edge.health_check_failure_threshold,
        ttl=edge.dns_ttl, locations=routing.locations(cfg.stack), owns_default=cfg.is_primary,
        alarm_provider=providers.aws(GLOBAL_REGION), tenants=tenant_records(edge, routing, cfg.stack),
        alarm_actions=(alarm_topic_arn,), latency_alarm_ms=latency_alarm_ms,
    ), home)

    if cfg.is_primary:
        cdn = CdnDistribution(f"{name}-cdn", CdnArgs(
            provider=edge.cdn_provider, domain=edge.domain, origin_host=host(APP_LABEL, edge.domain),
            failover_host=host(NEAREST_LABEL, edge.domain), zone_id=zone_id, static_ttl=edge.static_ttl,
            dynamic_ttl=edge.dynamic_ttl, price_class=edge.price_class, waf=edge.waf,
            log_retention_days=edge.log_retention_days, name_prefix=f"{name}-",
            home=providers.home, global_provider=providers.aws(GLOBAL_REGION),
            cloudflare_zone_id=edge.cloudflare_zone_id, archive_days=archive_days, images=edge.images,
            account_id=account_id, region=cfg.aws_region,
            cloudflare_api_token=pulumi.Config("cloudflare").get_secret("apiToken"),
            fastly_api_key=pulumi.Config("fastly").get_secret("apiKey"),
        ), home)
        cdn_domain: pulumi.Input[str] = cdn.domain
        cdn_id: pulumi.Input[str] = cdn.distribution_id
    else:
        cdn_domain, cdn_id = primary_exports.cdn_domain, primary_exports.cdn_distribution_id

    modeled, fast = rto.for_config(edge, engine)
    return {
        "hostedZoneId": zone_id,
        "domain": edge.domain,
        "appHost": host(APP_LABEL, edge.domain),
        "regionalEndpoint": dns.endpoint,
        "healthCheckId": dns.health_check_id,
        "cdnProvider": edge.cdn_provider,
        "cdnDomain": cdn_domain,
        "cdnDistributionId": cdn_id,
        "cdnRules": cdn_rules.table(edge.static_ttl, edge.dynamic_ttl, edge.images),
        "tenantRoutes": tenant_plan(edge, routing),
        "modeledRto": modeled.to_json(fast),
    }
