"""DNS rules: the hosted zone, health checks and routed records.

The spec's failover numbers (a check of `/api/health` every 30 s, unhealthy after 3
failures, routed TTLs of at most 60 s), geolocation covering every continent plus a
default, and tenants never routed outside their residency zone.
"""

from __future__ import annotations

from infra.domain import topology
from policies import types as t
from policies.rule import MANDATORY, as_list, of_type, resource_policy, setting, stack_outputs, stack_policy

DOMAIN = "dns"
MAX_TTL = 60
HEALTH_PATH = "/api/health"
MAX_INTERVAL = 30
MAX_FAILURES = 3
CONTINENTS = ("AF", "AS", "EU", "NA", "OC", "SA")
"""Continents the routing table must assign; Antarctica is answered by the default record."""
ROUTING_POLICIES = ("geolocationRoutingPolicies", "latencyRoutingPolicies", "failoverRoutingPolicies",
                    "weightedRoutingPolicies", "geoproximityRoutingPolicies", "cidrRoutingPolicies")


def is_routed(props) -> bool:
    return any(as_list(props.get(k)) for k in ROUTING_POLICIES)


def routed_ttl(args, report_violation):
    maximum = setting(args, "maximumTtl", MAX_TTL)
    ttl = args.props.get("ttl")
    if is_routed(args.props) and ttl is not None and ttl > maximum:
        report_violation(f"Routed DNS record TTL must be at most {maximum} s (found {ttl}).")


def health_check_endpoint(args, report_violation):
    props = args.props
    if props.get("type") != "HTTPS" or props.get("resourcePath") != HEALTH_PATH:
        report_violation(f"Health check must probe HTTPS {HEALTH_PATH} "
                         f"(found {props.get('type')} {props.get('resourcePath')}).")


def health_check_timing(args, report_violation):
    interval = args.props.get("requestInterval") or 30
    failures = args.props.get("failureThreshold") or 3
    max_interval = setting(args, "maximumInterval", MAX_INTERVAL)
    max_failures = setting(args, "maximumFailureThreshold", MAX_FAILURES)
    if interval > max_interval or failures > max_failures:
        report_violation(f"Health check must run at least every {max_interval} s and fail after at most "
                         f"{max_failures} failures (found {interval} s × {failures}).")


def dnssec(args, report_violation):
    signed = {d.props.get("hostedZoneId") for d in of_type(args, t.DNSSEC)}
    for zone in of_type(args, t.ZONE):
        private = as_list(zone.props.get("vpcs"))
        if not private and zone.props.get("zoneId") not in signed:
            report_violation("Public hosted zone must have DNSSEC signing enabled.", zone.urn)


def routed_records_health_checked(args, report_violation):
    """Every routed record carries a health check, except the geolocation default, which
    must point at a name whose routed records in this stack are all health-checked."""
    records = [r for r in of_type(args, t.RECORD) if is_routed(r.props)]
    by_name: dict = {}
    for record in records:
        by_name.setdefault(str(record.props.get("name", "")).rstrip("."), []).append(record)
    for record in records:
        if record.props.get("healthCheckId"):
            continue
        geo = as_list(record.props.get("geolocationRoutingPolicies"))
        if geo and geo[0].get("country") == "*":
            targets = [str(v).rstrip(".") for v in as_list(record.props.get("records"))]
            members = [m for name in targets for m in by_name.get(name, [])]
            if members and all(m.props.get("healthCheckId") for m in members):
                continue
        report_violation("Routed DNS record must have a health check.", record.urn)


def geolocation_coverage(args, report_violation):
    """The routing table assigns every continent; this stack has a geolocation record for
    each continent assigned to it, and the default's owner the `*` record. Passes when the
    stack exports no routing table (nothing is routed)."""
    table = stack_outputs(args).get("routingTable")
    stack = stack_outputs(args).get("stack")
    if not table:
        return
    assigned = table.get("continents") or {}
    missing = [c for c in CONTINENTS if c not in assigned]
    if missing:
        report_violation(f"Routing table must assign every continent (missing {', '.join(missing)}).")
    geo = [p for r in of_type(args, t.RECORD) for p in as_list(r.props.get("geolocationRoutingPolicies"))]
    have = {p.get("continent") for p in geo if p.get("continent")}
    own = sorted(c for c, s in assigned.items() if s == stack and c not in have)
    if own:
        report_violation(f"Stack must have a geolocation record for continents {', '.join(own)}.")
    if table.get("default") == stack and not any(p.get("country") == "*" for p in geo):
        report_violation("Stack owning the default route must have a default (*) geolocation record.")


def tenant_residency(args, report_violation):
    """No tenant with a residency zone is routed, preferred or as fallback, to a region outside it."""
    outputs = stack_outputs(args)
    table = outputs.get("routingTable") or {}
    regions = table.get("regions") or {}
    for route in as_list(outputs.get("tenantRoutes")):
        zone = route.get("zone")
        if not zone:
            continue
        for stack in (route.get("stack"), route.get("fallback")):
            region = regions.get(stack)
            if stack and region and topology.region(region).continent != zone:
                report_violation(f"Tenant {route.get('tenant')} must stay in {zone}; {stack} ({region}) is outside it.")


POLICIES = [
    resource_policy("routed-record-ttl", "Routed DNS records have a TTL of at most 60 seconds.",
                    routed_ttl, level=MANDATORY, types=[t.RECORD], domain=DOMAIN,
                    config={"maximumTtl": {"type": "integer", "default": MAX_TTL}}),
    resource_policy("health-check-endpoint", "Health checks probe each region's /api/health over HTTPS.",
                    health_check_endpoint, level=MANDATORY, types=[t.HEALTH_CHECK], domain=DOMAIN),
    resource_policy("health-check-timing", "Health checks detect a failure within 30 s × 3.",
                    health_check_timing, level=MANDATORY, types=[t.HEALTH_CHECK], domain=DOMAIN,
                    config={"maximumInterval": {"type": "integer", "default": MAX_INTERVAL},
                            "maximumFailureThreshold": {"type": "integer", "default": MAX_FAILURES}}),
    stack_policy("route53-dnssec", "Public hosted zones are signed with DNSSEC.",
                 dnssec, level=MANDATORY, domain=DOMAIN, checkov=["CKV2_AWS_38"]),
    stack_policy("routed-record-health-check", "Every routed DNS record has a health check.",
                 routed_records_health_checked, level=MANDATORY, domain=DOMAIN),
    stack_policy("geolocation-coverage", "Geolocation routing covers every continent plus a default.",
                 geolocation_coverage, level=MANDATORY, domain=DOMAIN),
    stack_policy("tenant-residency", "No tenant with a residency zone is routed outside it.",
                 tenant_residency, level=MANDATORY, domain=DOMAIN),
]
