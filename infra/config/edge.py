"""The edge section (set on the primary only): domain, zone, health checks, DNS TTL, tenant
routes, CDN provider and TTLs; its checks alone and against the deployed regions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from infra.domain import cdn_rules, image_variants, naming, rto, tenant_routes, topology
from infra.domain.image_variants import ImageSettings
from infra.domain.problems import Problem
from infra.config.base import NAMESPACE, Section

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


class EdgeConfig(Section):
    """The edge: the hosted zone, health-checked geolocation DNS, tenant routing and the CDN.

    Set once, on the primary (it owns the zone, the default route and the CDN); every stack
    reads the primary's values, so the regions cannot disagree about the edge.
    """

    domain: str = Field("", alias="edgeDomain",
                        description="The platform's DNS domain, e.g. hse-digital.com; required, set once, on the primary.")
    hosted_zone_id: str = Field("", alias="edgeHostedZoneId",
                                description="An existing Route53 public hosted zone for edgeDomain (e.g. Z0123456789ABCDEFGHIJ); "
                                            "empty: the primary creates the zone.")
    health_check_interval: int = Field(30, alias="edgeHealthCheckInterval",
                                       description="Seconds between Route53 health checks of each region: 30 (standard) or "
                                                   "10 (fast profile, a tighter RTO).")
    health_check_failure_threshold: int = Field(3, alias="edgeHealthCheckFailureThreshold",
                                                description="Consecutive failed checks that mark a region unhealthy, 1 to 10 "
                                                            "(the spec: 3).")
    dns_ttl: int = Field(60, alias="edgeDnsTtl",
                         description="TTL in seconds of every routed DNS record, 5 to 60.")
    tenant_routing: list[str] = Field(default_factory=list, alias="edgeTenantRouting",
                                      description="Tenant preferences, each '<tenant>=<stack>' or '<tenant>=<stack>@<zone>' "
                                                  "(zone: a continent code the tenant's data must stay in, e.g. EU).")
    cdn_provider: Literal["cloudfront", "cloudflare", "fastly", "custom"] = Field(
        "cloudfront", alias="cdnProvider",
        description="cloudfront, cloudflare, fastly, or custom (no CDN resources; the rules are exported).")
    static_ttl: int = Field(31_536_000, alias="cdnStaticTtlSeconds",
                            description="Edge TTL of static assets in seconds, 86400 to 31536000 (the spec: 1 year).")
    dynamic_ttl: int = Field(3600, alias="cdnDynamicTtlSeconds",
                             description="Edge TTL of dynamic content in seconds, 60 to 86400 (the spec: 1 hour).")
    price_class: Literal["PriceClass_All", "PriceClass_200", "PriceClass_100"] = Field(
        "PriceClass_All", alias="cdnPriceClass",
        description="CloudFront price class: PriceClass_All (every edge), PriceClass_200 or PriceClass_100.")
    waf: bool = Field(True, alias="cdnWaf",
                      description="A WAF web ACL (AWS managed rules and a rate limit) in front of the CDN.")
    log_retention_days: int = Field(90, alias="cdnLogRetentionDays",
                                    description="Days CDN access logs are kept, 1 to 3650.")
    cloudflare_zone_id: str = Field("", alias="cloudflareZoneId",
                                    description="The Cloudflare zone of edgeDomain (32 hex characters); "
                                                "required with cdnProvider cloudflare.")
    image_optimization: bool = Field(True, alias="cdnImageOptimization",
                                     description="Image optimization at the edge (resizing to cdnImageWidths, WebP/AVIF "
                                                 "by Accept) on uploads and static images; off: images are served as "
                                                 "stored. It costs per transformation on every provider (docs/edge.md).")
    image_widths: list[int] = Field(list(image_variants.DEFAULT_WIDTHS), alias="cdnImageWidths",
                                    description="The widths in pixels an image may be requested at (?w=), 1 to 10 "
                                                "ascending values from 16 to 4096; any other width is refused.")
    image_formats: list[str] = Field(list(image_variants.DEFAULT_FORMATS), alias="cdnImageFormats",
                                     description="Formats negotiated by the Accept header, in order of preference: "
                                                 "avif and/or webp; a browser that takes neither gets the original's.")
    image_quality: int = Field(image_variants.DEFAULT_QUALITY, alias="cdnImageQuality",
                               description="Encoder quality of image variants, 30 to 95.")

    @property
    def images(self) -> ImageSettings | None:
        """What the edge does to images, or None with image optimization off."""
        if not self.image_optimization:
            return None
        return ImageSettings(tuple(self.image_widths), tuple(self.image_formats), self.image_quality)


DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


HOSTED_ZONE_ID = re.compile(r"^Z[0-9A-Z]{1,31}$")


CLOUDFLARE_ZONE_ID = re.compile(r"^[0-9a-f]{32}$")


# Route53 health checks run every 30 s (standard) or 10 s (fast); nothing else is offered.
HEALTH_CHECK_INTERVALS = (10, 30)


CLOUDFRONT_ONLY_KEYS = ("cdnPriceClass", "cdnWaf", "cdnLogRetentionDays")


IMAGE_KEYS = ("cdnImageWidths", "cdnImageFormats", "cdnImageQuality")
"""Read only with cdnImageOptimization on."""


def check_edge(cfg: StackConfig) -> list[Problem]:
    edge = cfg.edge
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    if edge.domain and not DOMAIN.match(edge.domain):
        bad("edgeDomain", f"{edge.domain!r} is not a DNS domain; valid: lowercase labels of letters, digits and "
                          "inner hyphens separated by dots, e.g. hse-digital.com")
    if edge.hosted_zone_id and not HOSTED_ZONE_ID.match(edge.hosted_zone_id):
        bad("edgeHostedZoneId", f"{edge.hosted_zone_id!r} is not a Route53 hosted zone id; valid: Z followed by "
                                "upper-case letters and digits, e.g. Z0123456789ABCDEFGHIJ, or empty to create the zone")
    if edge.health_check_interval not in HEALTH_CHECK_INTERVALS:
        bad("edgeHealthCheckInterval", f"{edge.health_check_interval} is not an interval Route53 offers; "
                                       "valid: 30 (standard) or 10 (fast)")
    if not (1 <= edge.health_check_failure_threshold <= 10):
        bad("edgeHealthCheckFailureThreshold", f"{edge.health_check_failure_threshold} is out of range; "
                                               "Route53 accepts 1 to 10 consecutive failures")
    if not (5 <= edge.dns_ttl <= 60):
        bad("edgeDnsTtl", f"{edge.dns_ttl} is out of range; expected 5 to 60 seconds (a longer TTL delays failover)")
    for entry in edge.tenant_routing:
        _, problem = tenant_routes.parse(entry)
        if problem:
            bad("edgeTenantRouting", problem)
    if not (86_400 <= edge.static_ttl <= 31_536_000):
        bad("cdnStaticTtlSeconds", f"{edge.static_ttl} is out of range; expected 86400 (1 day) to 31536000 (1 year)")
    if not (60 <= edge.dynamic_ttl <= 86_400):
        bad("cdnDynamicTtlSeconds", f"{edge.dynamic_ttl} is out of range; expected 60 to 86400 seconds")
    elif edge.dynamic_ttl > edge.static_ttl:
        bad("cdnDynamicTtlSeconds", f"{edge.dynamic_ttl} exceeds the static TTL of {edge.static_ttl}; "
                                    "dynamic content is cached for less time than static assets")
    if not (1 <= edge.log_retention_days <= 3650):
        bad("cdnLogRetentionDays", f"{edge.log_retention_days} is out of range; expected 1 to 3650 days")
    for problem in image_variants.width_problems(edge.image_widths):
        bad("cdnImageWidths", f"{edge.image_widths} {problem}; valid: 1 to {image_variants.MAX_WIDTHS} widths "
                              f"from {image_variants.MIN_WIDTH} to {image_variants.MAX_WIDTH} pixels, ascending, "
                              "e.g. [320, 640, 960, 1280, 1920]")
    for problem in image_variants.format_problems(edge.image_formats):
        bad("cdnImageFormats", f"{edge.image_formats} {problem}; valid: avif and/or webp, each once, "
                               "in order of preference, e.g. [avif, webp]")
    if not (image_variants.MIN_QUALITY <= edge.image_quality <= image_variants.MAX_QUALITY):
        bad("cdnImageQuality", f"{edge.image_quality} is out of range; expected {image_variants.MIN_QUALITY} to "
                               f"{image_variants.MAX_QUALITY}")
    if not edge.image_optimization:
        for key in IMAGE_KEYS:
            if f"{NAMESPACE}:{key}" in cfg.explicit_keys:
                bad(key, "applies only with image optimization on, and hse:cdnImageOptimization is false, so nothing "
                         "would read it: remove it, or set hse:cdnImageOptimization true")
    if edge.cloudflare_zone_id and not CLOUDFLARE_ZONE_ID.match(edge.cloudflare_zone_id):
        bad("cloudflareZoneId", f"{edge.cloudflare_zone_id!r} is not a Cloudflare zone id; valid: 32 lowercase "
                                "hexadecimal characters (the zone's overview page shows it)")
    return problems


def check_edge_topology(cfg: StackConfig, everyone: dict[str, StackConfig]) -> list[Problem]:
    """The primary's edge settings against the deployed regions."""
    edge = cfg.edge
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    if not edge.domain:
        bad("edgeDomain", "is required on the primary; valid: the platform's DNS domain, e.g. hse-digital.com")
    for key in CLOUDFRONT_ONLY_KEYS:
        if edge.cdn_provider != "cloudfront" and f"{NAMESPACE}:{key}" in cfg.explicit_keys:
            bad(key, f"applies to cdnProvider cloudfront only, and this stack uses {edge.cdn_provider}, so nothing "
                     "would read it: remove it, or set hse:cdnProvider cloudfront")
    if edge.cdn_provider != "cloudflare" and edge.cloudflare_zone_id:
        bad("cloudflareZoneId", f"applies to cdnProvider cloudflare only, and this stack uses {edge.cdn_provider}, "
                                "so nothing would read it: remove it, or set hse:cdnProvider cloudflare")
    if edge.cdn_provider == "cloudflare" and not edge.cloudflare_zone_id:
        bad("cloudflareZoneId", "is required with cdnProvider cloudflare; valid: the 32-character id of the "
                                "Cloudflare zone of edgeDomain")
    if edge.cdn_provider == "fastly" and edge.image_optimization and cfg.aws_region not in cdn_rules.FASTLY_SHIELDS:
        bad("cdnImageOptimization", f"Fastly's Image Optimizer needs a shield POP near the origin, and none is known "
                                    f"near {cfg.aws_region}; valid: a primary in "
                                    f"{', '.join(sorted(cdn_rules.FASTLY_SHIELDS))}, or image optimization off")
    continent = {s: topology.region(c.aws_region).continent for s, c in everyone.items()
                 if c.aws_region in topology.REGIONS}
    seen: set[str] = set()
    for entry in edge.tenant_routing:
        route, problem = tenant_routes.parse(entry)
        if route is None:
            continue  # reported by check_edge
        if route.tenant in naming.RESERVED_LABELS or route.tenant in everyone:
            bad("edgeTenantRouting", f"tenant {route.tenant!r} would take the host name {route.tenant}.<domain> that "
                                     f"the platform uses; valid: a tenant id other than "
                                     f"{', '.join((*naming.RESERVED_LABELS, *sorted(everyone)))}")
        if route.tenant in seen:
            bad("edgeTenantRouting", f"tenant {route.tenant!r} is listed twice")
        seen.add(route.tenant)
        if route.stack not in everyone:
            bad("edgeTenantRouting", f"{entry!r}: tenant {route.tenant!r} prefers {route.stack!r}, which has no stack "
                                     f"file; valid: {', '.join(sorted(everyone))}")
            continue
        if route.zone is not None and continent.get(route.stack) != route.zone:
            inside = sorted(s for s, c in continent.items() if c == route.zone)
            bad("edgeTenantRouting", f"{entry!r}: residency {route.zone} contradicts the preferred region "
                                     f"{route.stack!r} ({everyone[route.stack].aws_region}, in "
                                     f"{continent.get(route.stack)}); valid: a region in {route.zone}: "
                                     f"{', '.join(inside) or 'none is deployed'}")
    fast = cfg.edge.health_check_interval == rto.FAST_INTERVAL
    modeled = rto.for_config(edge, cfg.database.engine)[0]
    if modeled.total_seconds >= rto.SPEC_RTO_SECONDS:
        bad("edgeHealthCheckInterval" if not fast else "edgeHealthCheckFailureThreshold",
            f"the modeled RTO is {modeled.total_seconds} s ({modeled.detection_seconds} s detection + "
            f"max({modeled.dns_ttl_seconds} s DNS TTL, {modeled.alarm_seconds} s alarm window + "
            f"{modeled.forwarding_seconds} s forwarding + {modeled.promotion_seconds} s {cfg.database.engine} "
            f"promotion) + {modeled.reconnect_seconds} s reconnect), not under the spec's "
            f"{rto.SPEC_RTO_SECONDS} s; use the fast profile (10 s) or a lower failure threshold")
    return problems


def edge_settings(cfg: StackConfig, others: dict[str, StackConfig]) -> EdgeConfig:
    """The edge settings every stack uses: the primary's."""
    if cfg.is_primary:
        return cfg.edge
    return next(o.edge for o in others.values() if o.is_primary)
