"""The platform's DNS in the plan: health checks, geolocation records from the routing
table, the latency-routed default, tenant records, residency, and the modeled RTO."""

from __future__ import annotations

import json

import pytest

from infra.engine.plan import StackPlan
from infra.domain.routing_table import RoutingTable
from tests.conftest import STACKS

RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ZONE = "aws:route53/zone:Zone"
DOMAIN = "hse-digital.example.com"
ORDER = {"us-east": 0, "eu-west": 1, "ap-se": 2}


def _table(plan: StackPlan) -> RoutingTable:
    data = plan.outputs["routingTable"]
    return RoutingTable(regions=data["regions"], continents=data["continents"], overrides=data["overrides"],
                        default=data["default"], nearest=data["nearest"], zones=data["zones"],
                        country_continents=data["countryContinents"])


def _dns_records(plan: StackPlan) -> list:
    """The routed records of the GeoDns component (not the CDN's own)."""
    return [r for r in plan.find(RECORD) if "hse:edge:GeoDns" in r.urn]


def _region_of(plan: StackPlan, resource) -> str:
    return plan.get(resource.provider_urn).input("region")


@pytest.mark.parametrize("stack", STACKS)
def test_the_health_check_is_the_specs(plans, stack) -> None:
    plan = plans[stack]
    check = plan.one(CHECK, f"hse-{plan.outputs['stack']}-dns-health")
    assert check.input("fqdn") == f"{stack}.{DOMAIN}" == plan.outputs["regionalEndpoint"]
    assert (check.input("type"), check.input("port"), check.input("resourcePath")) == ("HTTPS", 443, "/api/health")
    assert (check.input("requestInterval"), check.input("failureThreshold")) == (30, 3)
    assert check.input("measureLatency") is True and check.input("enableSni") is True
    assert plan.outputs["healthCheckId"] == check.id
    (alarm,) = [a for a in plan.find(ALARM) if a.input("metricName") == "HealthCheckStatus"]
    assert alarm.input("metricName") == "HealthCheckStatus" and alarm.input("dimensions") == {"HealthCheckId": check.id}
    assert (alarm.input("comparisonOperator"), alarm.input("threshold")) == ("LessThanThreshold", 1)
    # A check that stops reporting is as bad as a failing one.
    assert (alarm.input("treatMissingData"), alarm.input("statistic"), alarm.input("period"),
            alarm.input("evaluationPeriods")) == ("breaching", "Minimum", 60, 1)
    # Route53 publishes health-check metrics in us-east-1 only, whatever the stack's region.
    assert _region_of(plan, alarm) == "us-east-1"
    assert check.urn in alarm.dependencies
    # Alarms in us-east-1 notify a topic there: the primary's edge alarm topic.
    assert alarm.input("alarmActions") == alarm.input("okActions") == [plan.outputs["edgeAlarmTopicArn"]]
    assert plan.outputs["edgeAlarmTopicArn"].startswith("arn:aws:sns:us-east-1:")
    (latency,) = [a for a in plan.find(ALARM) if a.input("metricName") == "TimeToFirstByte"]
    assert (latency.input("threshold"), latency.input("dimensions")) == (1000, {"HealthCheckId": check.id})
    assert _region_of(plan, latency) == "us-east-1"
    assert latency.input("okActions") == [plan.outputs["edgeAlarmTopicArn"]]


@pytest.mark.parametrize("stack", STACKS)
def test_every_continent_and_override_points_where_the_table_says(plans, stack) -> None:
    plan = plans[stack]
    table = _table(plan)
    check = plan.one(CHECK, f"hse-{plan.outputs['stack']}-dns-health")
    geo = {}
    for record in _dns_records(plan):
        for policy in record.input("geolocationRoutingPolicies") or []:
            geo[(policy.get("continent"), policy.get("country"))] = record
    expected = {(c, None) for c, s in table.continents.items() if s == stack} | \
               {(None, c) for c, s in table.overrides.items() if s == stack}
    if stack == "us-east":
        expected.add((None, "*"))
    assert set(geo) == expected
    for key, record in geo.items():
        assert record.input("name") == f"app.{DOMAIN}" and record.input("type") == "CNAME"
        if key == (None, "*"):
            continue
        assert record.input("records") == [f"{stack}.{DOMAIN}"]
        assert record.input("healthCheckId") == check.id, record.urn
        assert check.urn in record.dependencies


def test_all_stacks_together_cover_every_rule_exactly_once(plans) -> None:
    table = _table(plans["us-east"])
    seen: dict[tuple, str] = {}
    for stack, plan in plans.items():
        for record in _dns_records(plan):
            for policy in record.input("geolocationRoutingPolicies") or []:
                key = (policy.get("continent"), policy.get("country"))
                assert key not in seen, f"{key} declared by {seen.get(key)} and {stack}"
                seen[key] = stack
    assert {k: v for k, v in seen.items() if k[0]} == {(c, None): s for c, s in table.continents.items()}
    assert {k: v for k, v in seen.items() if k[1] and k[1] != "*"} == \
           {(None, c): s for c, s in table.overrides.items()}
    assert seen[(None, "*")] == "us-east"
    assert len(table.overrides) == 21 and set(table.continents) == {"NA", "SA", "EU", "AF", "AS", "OC"}


def test_the_default_falls_back_to_the_nearest_healthy_region(plans) -> None:
    (default,) = [r for r in _dns_records(plans["us-east"])
                  if {"country": "*"} in (r.input("geolocationRoutingPolicies") or [])]
    # Always answered (no health check of its own); what it answers is health-filtered.
    assert default.input("records") == [f"nearest.{DOMAIN}"] and default.input("healthCheckId") is None
    members = {}
    for stack, plan in plans.items():
        (member,) = [r for r in _dns_records(plan) if r.input("name") == f"nearest.{DOMAIN}"]
        assert member.input("setIdentifier") == stack
        assert member.input("records") == [f"{stack}.{DOMAIN}"]
        assert member.input("healthCheckId") == plan.one(CHECK, f"hse-{plan.outputs['stack']}-dns-health").id
        members[stack] = member.input("latencyRoutingPolicies")
    assert members == {"us-east": [{"region": "us-east-1"}], "eu-west": [{"region": "eu-west-1"}],
                       "ap-se": [{"region": "ap-southeast-1"}]}


@pytest.mark.parametrize("stack", STACKS)
def test_every_routed_record_has_a_short_ttl_and_the_zone(plans, stack) -> None:
    plan = plans[stack]
    zone_id = plans["us-east"].outputs["hostedZoneId"]
    records = _dns_records(plan)
    assert len(records) >= 3
    for record in records:
        assert record.input("ttl") == 60, record.urn
        assert record.input("zoneId") == zone_id == plan.outputs["hostedZoneId"]
        assert record.input("allowOverwrite") is False


def test_the_primary_creates_and_protects_the_zone_and_the_secondaries_read_it(plans) -> None:
    zone = plans["us-east"].single(ZONE)
    assert zone.input("name") == DOMAIN and zone.protect is True and zone.input("forceDestroy") is False
    assert plans["us-east"].outputs["hostedZoneId"] == zone.output("zoneId")
    for stack in ("eu-west", "ap-se"):
        assert plans[stack].find(ZONE) == []


@pytest.mark.parametrize("stack", STACKS)
def test_no_stack_reads_a_later_one(plans, stack) -> None:
    for ref in plans[stack].find("pulumi:pulumi:StackReference"):
        read = ref.input("name").rsplit("/", 1)[1]
        assert ORDER[read] < ORDER[stack], f"{stack} reads {read}"


def test_non_default_edge_values_arrive(staging) -> None:
    for stack, plan in staging.items():
        check = plan.one(CHECK, f"hse-{plan.outputs['stack']}-dns-health")
        assert (check.input("requestInterval"), check.input("failureThreshold")) == (10, 2)
        assert check.input("fqdn") == f"{stack}.staging.hse-digital.example.com"
        records = _dns_records(plan)
        assert records and all(r.input("ttl") == 30 for r in records)
        # An existing zone, referenced by id: nobody creates one.
        assert plan.find(ZONE) == [] and all(r.input("zoneId") == "Z0STAGING0123456789AB" for r in records)
        assert plan.outputs["hostedZoneId"] == "Z0STAGING0123456789AB"


def _tenant_records(plan: StackPlan) -> dict[str, tuple]:
    return {r.input("name"): (r.input("failoverRoutingPolicies")[0]["type"], r.input("records"),
                              r.input("healthCheckId"))
            for r in _dns_records(plan) if r.input("failoverRoutingPolicies")}


def test_tenants_reach_their_region_and_fail_over_only_inside_their_zone(staging) -> None:
    domain = "staging.hse-digital.example.com"
    checks = {stack: plan.one(CHECK, f"hse-{plan.outputs['stack']}-dns-health").id for stack, plan in staging.items()}
    assert _tenant_records(staging["us-east"]) == {
        f"initech.{domain}": ("PRIMARY", [f"us-east.{domain}"], checks["us-east"])}
    # acme lives in the EU, where eu-west is the only region: no secondary anywhere.
    assert _tenant_records(staging["eu-west"]) == {
        f"acme.{domain}": ("PRIMARY", [f"eu-west.{domain}"], checks["eu-west"]),
        f"globex.{domain}": ("SECONDARY", [f"eu-west.{domain}"], checks["eu-west"])}
    assert sorted(r.input("setIdentifier") for r in _dns_records(staging["eu-west"])
                  if r.input("failoverRoutingPolicies")) == ["eu-west-acme-primary", "eu-west-globex-secondary"]
    assert _tenant_records(staging["ap-se"]) == {
        f"globex.{domain}": ("PRIMARY", [f"ap-se.{domain}"], checks["ap-se"])}
    assert staging["ap-se"].outputs["tenantRoutes"] == [
        {"tenant": "acme", "stack": "eu-west", "zone": "EU", "fallback": ""},
        {"tenant": "globex", "stack": "ap-se", "zone": "", "fallback": "eu-west"},
        {"tenant": "initech", "stack": "us-east", "zone": "NA", "fallback": ""}]


def test_the_modeled_rto_is_under_the_specs_five_minutes(plans, staging) -> None:
    rto = plans["us-east"].outputs["modeledRto"]
    assert (rto["detectionSeconds"], rto["dnsTtlSeconds"], rto["alarmSeconds"], rto["forwardingSeconds"],
            rto["promotionSeconds"], rto["reconnectSeconds"]) == (90, 60, 60, 15, 60, 30)
    # 90 s detection + max(60 s TTL, 60 s alarm window + 15 s forwarding + 60 s promotion) + 30 s reconnect.
    assert (rto["totalSeconds"], rto["fastProfileTotalSeconds"], rto["specSeconds"]) == (255, 195, 300)
    assert rto["usEast1LostTotalSeconds"] == 270
    # The alarm the model counts is the alarm the stack declares (us-east-1, one 60 s period).
    alarm = next(a for a in plans["us-east"].find("aws:cloudwatch/metricAlarm:MetricAlarm")
                 if a.input("metricName") == "HealthCheckStatus")
    assert alarm.input("period") * alarm.input("evaluationPeriods") == rto["alarmSeconds"]
    # Every stack models the same failure from the same settings.
    assert all(p.outputs["modeledRto"] == rto for p in plans.values())
    fast = staging["us-east"].outputs["modeledRto"]
    # 10 s x 2, then max(TTL 30, 60 + 15 + 60), then 30 s reconnect.
    assert (fast["detectionSeconds"], fast["totalSeconds"], fast["fastProfileTotalSeconds"]) == (20, 185, 185)


def test_the_created_zone_is_signed_with_dnssec(plans, staging) -> None:
    plan = plans["us-east"]
    zone = plan.single(ZONE)
    key = plan.one("aws:kms/key:Key", "hse-us-east-dnssec-key")
    assert (key.input("customerMasterKeySpec"), key.input("keyUsage")) == ("ECC_NIST_P256", "SIGN_VERIFY")
    assert plan.get(key.provider_urn).input("region") == "us-east-1"
    statements = {s["Sid"]: s for s in json.loads(key.input("policy"))["Statement"]}
    assert statements["Route53DnssecSigns"]["Principal"] == {"Service": "dnssec-route53.amazonaws.com"}
    assert statements["Route53DnssecSigns"]["Action"] == ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]
    ksk = plan.single("aws:route53/keySigningKey:KeySigningKey")
    assert (ksk.input("hostedZoneId"), ksk.input("keyManagementServiceArn"), ksk.input("status")) == \
           (zone.output("zoneId"), key.output("arn"), "ACTIVE")
    signing = plan.single("aws:route53/hostedZoneDnsSec:HostedZoneDnsSec")
    assert signing.input("signingStatus") == "SIGNING" and ksk.urn in signing.dependencies
    # A zone referenced by id belongs to someone else: not signed by this program.
    assert staging["us-east"].find("aws:route53/keySigningKey:KeySigningKey") == []
