"""The program end to end: every optional key set to a non-default value arrives where it
belongs, the ordering a real deploy needs is declared, validation bounds hold on both
sides, names cannot collide, and the engine's stand-ins look like AWS's own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components.flow_logs import DELIVERY_ACTIONS, LIST_ACTIONS
from infra.config import PRIMARY_ONLY_KEYS, StackConfig, validate_stacks
from infra.engine import Engine
from infra.engine.schema import is_taggable
from infra.config.stackfiles import Project
from tests.conftest import NON_DEFAULT, STACKS, copy_project, edit_stack

NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"


def test_every_optional_key_is_exercised() -> None:
    optional = {key.split(":", 1)[1] for key, (_, _, info) in StackConfig.keys().items() if not info.is_required()}
    assert optional == set(NON_DEFAULT)
    for key, (_, _, info) in StackConfig.keys().items():
        if not info.is_required():
            # peers: the primary's only valid value is the default; dbEngine: rds-postgres has its own
            # plan; the CDN providers other than CloudFront have theirs (tests/components/test_cdn.py).
            if key not in ("hse:peers", "hse:dbEngine", "hse:cdnProvider", "hse:cloudflareZoneId",
                           "hse:cdnImageOptimization"):
                assert NON_DEFAULT[key.split(":", 1)[1]] != info.get_default(call_default_factory=True), key


@pytest.mark.parametrize("stack", STACKS)
def test_environment_and_cost_center_reach_every_tag(staging, stack) -> None:
    plan = staging[stack]
    taggable = [r for r in plan.managed() if r.custom and is_taggable(r.type)]
    assert len(taggable) > 30
    for r in taggable:
        tags = r.output("tagsAll")
        assert (tags["environment"], tags["cost-center"]) == ("staging", "cc-4242"), r.urn


def test_nat_gateway_count_reaches_the_routes(staging) -> None:
    plan = staging["us-east"]
    nats = plan.find(NAT)
    assert sorted(n.name for n in nats) == ["hse-us-east-nat-us-east-1a", "hse-us-east-nat-us-east-1b"]
    by_zone = {n.name.rsplit("-", 3)[-3] + "-" + n.name.rsplit("-", 3)[-2] + "-" + n.name.rsplit("-", 1)[-1]: n.id
               for n in nats}
    egress = {r.name: r.input("natGatewayId") for r in plan.find(ROUTE) if r.input("natGatewayId")}
    # Zones a and b use their own NAT; zone c shares zone a's (round-robin).
    assert egress == {"hse-us-east-app-us-east-1a-egress": by_zone["us-east-1a"],
                      "hse-us-east-app-us-east-1b-egress": by_zone["us-east-1b"],
                      "hse-us-east-app-us-east-1c-egress": by_zone["us-east-1a"]}
    assert len(plan.find("aws:ec2/eip:Eip")) == 2


def test_each_az_routes_through_its_own_nat_by_default(plans) -> None:
    plan = plans["eu-west"]
    nat_zone = {n.id: n.name.rsplit("nat-", 1)[1] for n in plan.find(NAT)}
    egress = {r.name.removeprefix("hse-eu-west-app-").removesuffix("-egress"): nat_zone[r.input("natGatewayId")]
              for r in plan.find(ROUTE) if r.input("natGatewayId")}
    assert egress == {"eu-west-1a": "eu-west-1a", "eu-west-1b": "eu-west-1b", "eu-west-1c": "eu-west-1c"}


def test_retention_and_log_group_name_reach_the_flow_logs(staging) -> None:
    group = staging["eu-west"].one("aws:cloudwatch/logGroup:LogGroup", "hse-eu-west-flow-logs-group")
    assert group.input("retentionInDays") == 90
    assert group.input("namePrefix") == "/hse/staging/eu-west/vpc-flow-logs-"
    assert re.fullmatch(r"/hse/staging/eu-west/vpc-flow-logs-\d{18}[0-9a-f]{8}", group.output("name"))


def test_app_port_reaches_the_load_balancer_rules(staging) -> None:
    plan = staging["ap-se"]
    public = set(plan.outputs["appSubnetCidrs"]) and {
        s.input("cidrBlock") for s in plan.find("aws:ec2/subnet:Subnet") if s.input("tags")["tier"] == "public"}
    rules = [r for r in plan.find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.input("cidrIpv4") in public]
    assert len(rules) == 3
    assert {(r.input("fromPort"), r.input("toPort")) for r in rules} == {(9090, 9090)}


# -- the ordering a real deploy needs ----------------------------------------------------
def test_nat_gateways_wait_for_the_internet_gateway(plans) -> None:
    plan = plans["us-east"]
    (igw,) = plan.find("aws:ec2/internetGateway:InternetGateway")
    for nat in plan.find(NAT):
        assert igw.urn in nat.dependencies, nat.urn


def test_the_flow_log_waits_for_its_role_and_the_role_policy(plans) -> None:
    plan = plans["us-east"]
    (flow,) = plan.find("aws:ec2/flowLog:FlowLog")
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "hse-us-east-flow-logs-delivery")
    role = plan.one("aws:iam/role:Role", "hse-us-east-flow-logs-role")
    assert {policy.urn, role.urn} <= set(flow.dependencies)


@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_everything_on_a_peering_waits_for_its_acceptance(plans, stack) -> None:
    plan = plans[stack]
    accepted = {a.output("vpcPeeringConnectionId"): a.urn
                for a in plan.find("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")}
    options = plan.find("aws:ec2/peeringConnectionOptions:PeeringConnectionOptions")
    routes = [r for r in plan.find(ROUTE) if r.input("vpcPeeringConnectionId")]
    assert len(options) == 2 * len(accepted) and routes
    for r in options + routes:
        assert accepted[r.input("vpcPeeringConnectionId")] in r.dependencies, r.urn


def test_the_export_keeps_dependencies(plans) -> None:
    export = plans["us-east"].to_export()["deployment"]["resources"]
    (flow,) = [r for r in export if r["type"] == "aws:ec2/flowLog:FlowLog"]
    assert any(u.endswith("aws:iam/rolePolicy:RolePolicy::hse-us-east-flow-logs-delivery") for u in flow["dependencies"])
    assert flow["propertyDependencies"]["vpcId"][0].endswith("aws:ec2/vpc:Vpc::hse-us-east-vpc")


def test_urns_carry_the_whole_parent_type_chain(plans) -> None:
    group = plans["us-east"].one("aws:cloudwatch/logGroup:LogGroup", "hse-us-east-flow-logs-group")
    assert group.urn == ("urn:pulumi:us-east::hse::hse:network:RegionStack$hse:network:FlowLogs$"
                         "aws:cloudwatch/logGroup:LogGroup::hse-us-east-flow-logs-group")
    (vpc,) = plans["us-east"].find("aws:ec2/vpc:Vpc")
    assert vpc.urn == "urn:pulumi:us-east::hse::hse:network:RegionStack$aws:ec2/vpc:Vpc::hse-us-east-vpc"


# -- IAM -----------------------------------------------------------------------------------
def test_the_delivery_policy_grants_exactly_what_flow_logs_needs(plans) -> None:
    plan = plans["ap-se"]
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", f"hse-{plan.outputs['stack']}-flow-logs-group")
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "hse-ap-se-flow-logs-delivery")
    statements = json.loads(policy.input("policy"))["Statement"]
    assert statements == [
        {"Sid": "DeliverToTheFlowLogGroup", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
         "Resource": [group.output("arn"), group.output("arn") + ":*"]},
        {"Sid": "ListLogGroups", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"},
    ]
    assert (DELIVERY_ACTIONS, LIST_ACTIONS) == (
        ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"), ("logs:DescribeLogGroups",))


# -- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_replaceable_resources_have_generated_names(plans, stack) -> None:
    """A fixed name would collide when a replacement is created before its predecessor is deleted."""
    plan = plans[stack]
    for type_ in ("aws:ec2/securityGroup:SecurityGroup", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"):
        for r in plan.find(type_):
            # The provider's autoname: the logical name and a random suffix (stand-in offline).
            assert re.fullmatch(re.escape(r.name) + r"-[0-9a-f]{7}", r.input("name")), r.urn
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", f"hse-{plan.outputs['stack']}-flow-logs-group")
    assert group.input("name") is None and group.input("namePrefix") == f"/hse/production/{stack}/vpc-flow-logs-"


# -- engine fidelity ---------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_every_arn_names_its_provider_region_and_the_account(plans, stack) -> None:
    plan = plans[stack]
    seen = 0
    for r in plan.managed():
        arn = r.output("arn") if r.custom else None
        if not isinstance(arn, str) or r.type == "aws:cloudwatch/eventTarget:EventTarget":
            continue  # an event target's `arn` is its target's (a bus in another region)
        seen += 1
        partition, service, region, account = arn.split(":")[1:5]
        # S3 and Route53 ARNs name neither account nor region; IAM, CloudFront and Aurora
        # global clusters are global (no region); CloudFront's WAF lives in us-east-1.
        assert (partition, account) == ("aws", "" if service in ("s3", "route53") else "111122223333"), arn
        is_global = service in ("iam", "s3", "route53", "cloudfront") or ":global-cluster:" in arn
        expected = "" if is_global else plan.get(r.provider_urn).input("region")
        assert region == expected, f"{r.urn}: {arn}"
    assert seen >= 20


# -- validation bounds, both sides -------------------------------------------------------------
BOUNDS = [
    # key, values that pass, values that fail
    ("natGatewayCount", [1, 3], [0, 4]),
    ("appPort", [1024, 65535], [1023, 65536]),
    ("appInstanceCount", [1, 5], [0, -1]),
    ("vpcCidr", ["10.1.0.0/16", "10.1.0.0/20"], ["10.0.0.0/15", "10.1.0.0/21", "11.1.0.0/16", "100.64.0.0/16"]),
    ("flowLogRetentionDays", [1, 3653], [2, 3654, 0]),
    ("deployOrder", [1, 5], [-1]),
    ("availabilityZones", [["eu-west-1a", "eu-west-1b", "eu-west-1c"]],
     [["eu-west-1a", "eu-west-1a", "eu-west-1b"], ["eu-west-1a", "eu-west-1b"],
      ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a"]]),
    ("environment", ["qa", "a" + "b" * 11], ["a", "a" + "b" * 12, "Prod", "9lives", "pre_prod"]),
    ("costCenter", ["x"], [""]),
    ("dbBackupRetentionDays", [30, 35], [29, 36, 0]),
    ("dbReaderCount", [0, 1, 15], [-1, 16]),
    ("dbInstanceClass", ["db.r6g.large", "db.r7g.2xlarge"], ["db.t4g.medium", "db.m6g.large", "db.x9.huge"]),
    ("dbEngine", ["aurora-postgresql"], ["mysql", "rds-postgres"]),  # a secondary must run the primary's engine
    ("dbReplicationLagAlarmSeconds", [1, 59], [0, 60]),
    ("dbRpoSeconds", [31, 3600], [0, 3601]),  # 30 (not above the lag alarm) blames the alarm: see below
    ("dbConnectionsPerAppInstance", [1, 574], [0, 1001]),  # 575 × 3 > 1722 blames the class: see below
    ("dbSlowQueryMs", [0, 60000], [-1, 60001]),
    ("dbSecretRotationDays", [1, 365], [0, 366]),
    ("dbMonitoringInterval", [1, 60], [0, 2, 120]),
    ("dbStorageGib", [20, 65536], [19, 65537]),
    ("dbMasterUsername", ["a", "hse_ops"], ["postgres", "rdsadmin", "Admin", "9ops", "a" * 17]),
    ("dbName", ["hse", "a" * 63], ["HSE", "a" * 64, "1db"]),
    ("dbEngineVersion", [], ["16.6"]),  # set once, on the primary: never in a secondary's file
    ("dbWriteForwarding", [True, False], []),
    ("cacheShards", [1, 500], [0, 501]),
    ("cacheReplicasPerShard", [1, 5], [0, 6]),  # 0: automatic failover would have nothing to promote
    ("cacheTenants", [["a"], ["acme", "b-2", "x" * 20]],
     [[], ["Acme"], ["ac*me"], ["a b"], ["a:b"], [""], ["acme", "acme"], ["x" * 21], ["-a"], ["a-"], ["a?"], ["[a]"]]),
    ("cacheSnapshotRetentionDays", [1, 35], [0, 36]),
    ("cacheMaxmemoryPolicy", ["noeviction", "allkeys-lru"], ["lru", ""]),
    ("cacheEngineVersion", ["7.0", "7.1"], ["6.2", "8.0", "7"]),
    ("cacheNodeType", ["cache.m7g.large", "cache.r6g.xlarge"], ["cache.t4g.micro", "r7g.large", "cache.r7g"]),
    ("cacheMemoryAlarmPercent", [1, 100], [0, 101]),
    ("cacheCpuAlarmPercent", [1, 100], [0, 101]),
    ("cacheEvictionsAlarm", [1, 10**9], [0]),
    ("cacheConnectionsAlarm", [1, 65000], [0, 65001]),
    ("cacheReplicationLagAlarmSeconds", [1, 3600], [0, 3601]),
    ("cacheGlobalDatastore", [False], [True]),  # a secondary joins only when the primary creates one
    # Workloads.
    ("appMaxInstanceCount", [3, 100], [2, 101]),  # eu-west runs 3: the maximum cannot be below it
    ("appCpuTargetPercent", [10, 95], [9, 96]),
    ("appMemoryTargetPercent", [10, 95], [9, 96]),
    ("appCpuMillicores", [100, 4000], [99, 4001]),
    ("appMemoryMib", [256, 16384], [255, 16385]),
    ("appColours", [["blue"], ["blue", "green"]], [[], ["red"], ["blue", "blue"]]),
    ("appActiveColour", ["blue"], ["green", "red"]),  # green is not deployed by default
    ("appImage", ["ghcr.io/a/b:1.0", "registry.example.com:5000/x/y@sha256:" + "a" * 64],
     ["app", "ghcr.io/a/b:latest", "ghcr.io/a/b", "Ghcr.io/a/b:1"]),
    ("kubernetesVersion", ["1.31", "1.35"], ["1.30", "1.36", "1.33.1"]),
    # Empty is refused: the first `pulumi up` could not reach the API (see the next test).
    ("eksPublicAccessCidrs", [["203.0.113.0/24"], ["10.0.0.0/16"]], [[], ["0.0.0.0/0"], ["10.0.0.1/16"], ["x"]]),
    ("nodeSpot", [False], [True]),  # production: on-demand only
    ("nodePodsPerNode", [1, 20], [0, 21]),
    ("nodeInstanceType", ["m7g.large", "c6i.2xlarge"], ["large", "M7G.large", ""]),
    ("alarmEmails", [[], ["a@b.co"]], [["nope"], ["a@b"]]),
    ("latencyAlarmMs", [100, 10000], [99, 10001]),
    ("errorRateAlarmPercent", [1, 50], [0, 51]),
    ("storageArchiveDays", [30, 3650], [29, 3651]),
]
ZONE = "0123456789abcdef0123456789abcdef"
PRIMARY_BOUNDS = [
    ("dbEngineVersion", ["13.20", "17.2"], ["12.22", "18.1", "16", "16.6.1"]),
    # The edge (set once, on the primary).
    ("edgeDomain", ["hse-digital.com", "a.b.example.org"],
     ["", "HSE.com", "under_score.com", "localhost", "-a.com", "a.com.", "a" * 64 + ".com"]),
    ("edgeHostedZoneId", ["", "Z0123456789ABCDEFGHIJ", "Z1"], ["z0123", "Z" + "1" * 32, "hostedzone/Z0123", "Z-1"]),
    ("edgeHealthCheckInterval", [10, 30], [20, 9, 31, 0]),
    ("edgeHealthCheckFailureThreshold", [1, 4], [0, 11]),  # 5 x 30 s breaks the RTO: see below
    ("edgeDnsTtl", [5, 60], [4, 61, 0]),
    ("edgeTenantRouting", [[], ["acme=eu-west@EU", "b=us-east", "c=ap-se@AS"]],
     [["acme"], ["acme=mars"], ["acme=eu-west@XX"], ["acme=us-east@EU"], ["Acme=eu-west"], ["app=us-east"],
      ["us-east=us-east"], ["www=eu-west"], ["a=eu-west", "a=ap-se"], ["acme=eu-west@"], ["a=b=c"], ["a =eu-west"]]),
    ("cdnProvider", ["cloudfront", "fastly", "custom"], ["akamai", "CloudFront", ""]),  # cloudflare without a zone: below
    ("cdnStaticTtlSeconds", [86400, 31536000], [86399, 31536001]),
    ("cdnDynamicTtlSeconds", [60, 86400], [59, 86401]),
    ("cdnPriceClass", ["PriceClass_100", "PriceClass_All"], ["PriceClass_300", "all"]),
    ("cdnWaf", [True, False], []),
    ("cdnLogRetentionDays", [1, 3650], [0, 3651]),
    ("cloudflareZoneId", [""], [ZONE, "xyz"]),  # a zone id with CloudFront would be read by nothing
    ("cdnImageOptimization", [True, False], []),
    ("cdnImageWidths", [[16], [4096], [320, 640], list(range(100, 1001, 100))],
     [[], [15], [4097], [640, 320], [320, 320], list(range(100, 1101, 100))]),
    ("cdnImageFormats", [["avif"], ["webp"], ["webp", "avif"]], [[], ["jpeg"], ["avif", "avif"], ["AVIF"]]),
    ("cdnImageQuality", [30, 95], [29, 96]),
    ("vpnClientCidr", ["172.16.0.0/22", "172.16.0.0/12"], ["172.16.0.0/23", "10.0.0.0/22", "x"]),
    ("vpnServerCertificateArn", [""], ["arn:aws:acm:us-east-1:111122223333:certificate/x"]),
    ("dbInstanceClass", ["db.r6g.large"], ["db.t4g.medium"]),  # Aurora global databases take no burstable class
]


def _problems_for(tmp_path: Path, stack: str, key: str, value) -> tuple[list, list]:
    project = copy_project(tmp_path / f"p{abs(hash((stack, key, repr(value))))}")
    edit_stack(project, stack, **{key: value})
    _, problems = validate_stacks(Project(project), [stack])
    return problems, [p for p in problems if p.key == f"hse:{key}" and p.file == f"Pulumi.{stack}.yaml"]


@pytest.mark.parametrize("key,good,bad", PRIMARY_BOUNDS, ids=[b[0] for b in PRIMARY_BOUNDS])
def test_each_primary_bound_holds_on_both_sides(tmp_path: Path, key, good, bad) -> None:
    for value in good + bad:
        problems, mine = _problems_for(tmp_path, "us-east", key, value)
        assert (problems == []) if value in good else bool(mine), f"{key}={value!r}: {problems}"


def test_tenant_ids_that_make_user_ids_too_long_are_named(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    edit_stack(project, "eu-west", environment="integration1", cacheTenants=["x" * 20])
    _, problems = validate_stacks(Project(project), ["eu-west"])
    assert [str(p) for p in problems] == [
        "Pulumi.eu-west.yaml: hse:cacheTenants: user ids '<environment>-<stack>-<tenant>' must fit ElastiCache's "
        "40 characters; shorten the longest tenant id (20 characters), the environment or the stack name"]


def test_short_retention_needs_the_explicit_override(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    edit_stack(project, "eu-west", dbBackupRetentionDays=7)
    _, problems = validate_stacks(Project(project), ["eu-west"])
    assert [str(p) for p in problems] == [
        "Pulumi.eu-west.yaml: hse:dbBackupRetentionDays: 7 is below the spec's 30-day retention; valid: 30 to 35, "
        "or set hse:dbAllowShortRetention true for a dev or test environment"]
    edit_stack(project, "eu-west", dbAllowShortRetention=True)
    assert validate_stacks(Project(project), ["eu-west"])[1] == []
    edit_stack(project, "eu-west", dbBackupRetentionDays=0)
    assert validate_stacks(Project(project), ["eu-west"])[1] != []


def test_write_forwarding_is_refused_on_rds_postgres(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    for stack in STACKS:
        edit_stack(project, stack, dbEngine="rds-postgres", dbInstanceClass="db.m6g.large")
    edit_stack(project, "eu-west", dbWriteForwarding=True)
    _, problems = validate_stacks(Project(project), ["eu-west"])
    assert [str(p) for p in problems] == [
        "Pulumi.eu-west.yaml: hse:dbWriteForwarding: write forwarding is an Aurora global database feature; "
        "rds-postgres has none (set hse:dbEngine aurora-postgresql or turn it off)"]


def test_the_lag_alarm_must_stay_below_the_rpo(tmp_path: Path) -> None:
    problems, _ = _problems_for(tmp_path, "eu-west", "dbRpoSeconds", 30)
    assert [str(p) for p in problems] == [
        "Pulumi.eu-west.yaml: hse:dbReplicationLagAlarmSeconds: 30 must be at least 1 and below the RPO of 30 s, "
        "so the alarm fires before the RPO is lost"]


def test_a_pool_that_does_not_fit_names_the_class(tmp_path: Path) -> None:
    problems, _ = _problems_for(tmp_path, "eu-west", "dbConnectionsPerAppInstance", 575)
    assert [p.key for p in problems] == ["hse:dbInstanceClass"]
    problems, mine = _problems_for(tmp_path, "us-east", "dbConnectionsPerAppInstance", 400)
    assert [str(p) for p in mine] == [] and [str(p) for p in problems] == [
        "Pulumi.us-east.yaml: hse:dbInstanceClass: a pool of 2000 connections needs 117% of db.r6g.large's "
        "1722 connections, but only 100% are available; choose a larger class or fewer connections per instance"]


@pytest.mark.parametrize("key,good,bad", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_each_bound_holds_on_both_sides(tmp_path: Path, key, good, bad) -> None:
    for value in good + bad:
        problems, mine = _problems_for(tmp_path, "eu-west", key, value)
        if value in good:
            assert problems == [], f"{key}={value!r} should pass: {problems}"
        else:
            assert mine, f"{key}={value!r} should fail on hse:{key}: {problems}"


def test_a_private_only_api_needs_a_deployer_inside_the_vpc(tmp_path: Path) -> None:
    problems, mine = _problems_for(tmp_path, "eu-west", "eksPublicAccessCidrs", [])
    assert [p.key for p in mine] == ["hse:eksPublicAccessCidrs"] and "first `pulumi up`" in mine[0].message
    project = copy_project(tmp_path / "inside")
    edit_stack(project, "eu-west", eksPublicAccessCidrs=[], eksDeployerInsideVpc=True)
    assert validate_stacks(Project(project), ["eu-west"])[1] == []


@pytest.mark.parametrize("key", PRIMARY_ONLY_KEYS)
def test_edge_and_version_keys_are_set_only_on_the_primary(tmp_path: Path, key) -> None:
    default = StackConfig.keys()[f"hse:{key}"][2].get_default(call_default_factory=True)
    problems, mine = _problems_for(tmp_path, "eu-west", key, default)
    assert [str(p) for p in mine] == [
        f"Pulumi.eu-west.yaml: hse:{key}: is set once, on the primary (Pulumi.us-east.yaml); a secondary follows "
        "the primary's value: remove it from this file"], problems


EDGE_MESSAGES = [
    ({"cdnProvider": "akamai"}, "hse:cdnProvider", "Input should be 'cloudfront', 'cloudflare', 'fastly' or 'custom' "
                                                   "(got 'akamai'); valid: cloudfront, cloudflare, fastly, or custom (no CDN resources; "
                                                   "the rules are exported)."),
    ({"edgeHealthCheckInterval": 20}, "hse:edgeHealthCheckInterval",
     "20 is not an interval Route53 offers; valid: 30 (standard) or 10 (fast)"),
    ({"edgeTenantRouting": ["acme=mars"]}, "hse:edgeTenantRouting",
     "'acme=mars': tenant 'acme' prefers 'mars', which has no stack file; valid: ap-se, eu-west, us-east"),
    ({"edgeTenantRouting": ["acme=us-east@EU"]}, "hse:edgeTenantRouting",
     "'acme=us-east@EU': residency EU contradicts the preferred region 'us-east' (us-east-1, in NA); valid: a region "
     "in EU: eu-west"),
    ({"edgeTenantRouting": ["acme=eu-west@AF"]}, "hse:edgeTenantRouting",
     "'acme=eu-west@AF': residency AF contradicts the preferred region 'eu-west' (eu-west-1, in EU); valid: a region "
     "in AF: none is deployed"),
    ({"cdnStaticTtlSeconds": 31536001}, "hse:cdnStaticTtlSeconds",
     "31536001 is out of range; expected 86400 (1 day) to 31536000 (1 year)"),
    ({"cdnProvider": "cloudflare"}, "hse:cloudflareZoneId",
     "is required with cdnProvider cloudflare; valid: the 32-character id of the Cloudflare zone of edgeDomain"),
    ({"cdnProvider": "fastly", "cdnWaf": False}, "hse:cdnWaf",
     "applies to cdnProvider cloudfront only, and this stack uses fastly, so nothing would read it: remove it, or "
     "set hse:cdnProvider cloudfront"),
    ({"vpnServerCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"},
     "hse:vpnClientRootCertificateArn", "the admin VPN needs both certificates: set vpnServerCertificateArn and "
                                        "vpnClientRootCertificateArn, or neither"),
    ({"nodeSpot": True}, "hse:nodeSpot", "spot capacity can be reclaimed at two minutes' notice; it is allowed only "
                                         "outside production (set hse:environment to a dev or test name, or turn "
                                         "nodeSpot off)"),
    ({"appMaxInstanceCount": 4}, "hse:appMaxInstanceCount", "4 is out of range; expected appInstanceCount (5) to "
                                                            "100: the autoscaler's maximum cannot be below its minimum"),
    ({"appColours": ["blue", "purple"]}, "hse:appColours", "['blue', 'purple'] is not a set of colours; valid: one or "
                                                           "both of blue, green"),
    ({"kubernetesVersion": "1.29"}, "hse:kubernetesVersion", "'1.29' is not a supported EKS version; valid: 1.31, "
                                                             "1.32, 1.33, 1.34, 1.35"),
    ({"cdnImageWidths": [320, 99999]}, "hse:cdnImageWidths",
     "[320, 99999] has 99999 outside 16 to 4096 pixels; valid: 1 to 10 widths from 16 to 4096 pixels, ascending, "
     "e.g. [320, 640, 960, 1280, 1920]"),
    ({"cdnImageFormats": ["avif", "jxl"]}, "hse:cdnImageFormats",
     "['avif', 'jxl'] has 'jxl', which is not negotiated by Accept; valid: avif and/or webp, each once, in order of preference, "
     "e.g. [avif, webp]"),
    ({"cdnImageOptimization": False, "cdnImageQuality": 70}, "hse:cdnImageQuality",
     "applies only with image optimization on, and hse:cdnImageOptimization is false, so nothing would read it: "
     "remove it, or set hse:cdnImageOptimization true"),
    ({"edgeHealthCheckFailureThreshold": 5}, "hse:edgeHealthCheckInterval",
     "the modeled RTO is 315 s (150 s detection + max(60 s DNS TTL, 60 s alarm window + 15 s forwarding + 60 s "
     "aurora-postgresql promotion) + 30 s reconnect), not under the spec's 300 s; use the fast profile (10 s) or "
     "a lower failure threshold"),
]


@pytest.mark.parametrize("changes,key,message", EDGE_MESSAGES, ids=[m[1] + str(i) for i, m in enumerate(EDGE_MESSAGES)])
def test_bad_edge_config_is_named_clearly(tmp_path: Path, changes, key, message) -> None:
    project = copy_project(tmp_path / "p")
    edit_stack(project, "us-east", **changes)
    _, problems = validate_stacks(Project(project), ["us-east"])
    assert [str(p) for p in problems] == [f"Pulumi.us-east.yaml: {key}: {message}"]


def test_fastlys_image_optimizer_needs_a_known_shield_near_the_primary(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    canada = dict(awsRegion="ca-central-1", availabilityZones=["ca-central-1a", "ca-central-1b", "ca-central-1d"])
    edit_stack(project, "us-east", cdnProvider="fastly", **canada)
    _, problems = validate_stacks(Project(project), ["us-east"])
    assert [str(p) for p in problems] == [
        "Pulumi.us-east.yaml: hse:cdnImageOptimization: Fastly's Image Optimizer needs a shield POP near the origin, "
        "and none is known near ca-central-1; valid: a primary in ap-northeast-1, ap-south-1, ap-southeast-1, "
        "ap-southeast-2, eu-central-1, eu-west-1, eu-west-2, eu-west-3, sa-east-1, us-east-1, us-east-2, us-west-1, "
        "us-west-2, or image optimization off"]
    edit_stack(project, "us-east", cdnImageOptimization=False)
    assert validate_stacks(Project(project), ["us-east"])[1] == []


def test_four_failed_checks_stay_under_the_rto(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    edit_stack(project, "us-east", edgeHealthCheckFailureThreshold=4)  # 120 + 135 + 30 = 285 s
    assert validate_stacks(Project(project), ["us-east"])[1] == []


def test_the_fast_profile_allows_a_higher_threshold(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    edit_stack(project, "us-east", edgeHealthCheckFailureThreshold=7, edgeHealthCheckInterval=10)
    assert validate_stacks(Project(project), ["us-east"])[1] == []


def test_a_secondary_on_another_engine_than_the_primary_is_named(tmp_path: Path) -> None:
    problems, _ = _problems_for(tmp_path, "eu-west", "dbEngine", "rds-postgres")
    assert "Pulumi.eu-west.yaml: hse:dbEngine: rds-postgres differs from the primary's aurora-postgresql " \
           "(Pulumi.us-east.yaml); every region runs the primary's engine" in [str(p) for p in problems]


def test_a_zone_the_account_does_not_see_stops_the_stack(project_copy, monkeypatch) -> None:
    from infra.engine.cloud import OfflineCloud
    from infra.domain.problems import ConfigError

    answer = OfflineCloud.call

    def without_c(self, token, args, provider_ref):
        result = answer(self, token, args, provider_ref)
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            result = dict(result, names=[n for n in result["names"] if not n.endswith("c")])
        return result

    monkeypatch.setattr(OfflineCloud, "call", without_c)
    with pytest.raises(ConfigError) as info:
        Engine(project_copy).plan("us-east")
    assert [str(p) for p in info.value.problems] == [
        "Pulumi.us-east.yaml: hse:availabilityZones: us-east-1c not available to this account in us-east-1; "
        "available: us-east-1a, us-east-1b, us-east-1d, us-east-1e, us-east-1f"]
    assert info.value.declared == []


@pytest.mark.parametrize("stack,valid", [("au", True), ("s11-ap-southeast-3", True), ("a" * 20, True),
                                         ("a" * 21, False), ("AU", False), ("au_east", False), ("1au", False),
                                         ("au-", False), ("a", False)])
def test_stack_names_must_fit_aws_names(tmp_path: Path, stack, valid) -> None:
    project = copy_project(tmp_path / "p")
    edit_stack(project, stack, role="secondary", awsRegion="ap-southeast-2", deployOrder=3,
               peers=["us-east"], vpcCidr="10.3.0.0/16",
               availabilityZones=["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"], appInstanceCount=3)
    _, problems = validate_stacks(Project(project), [stack])
    mine = [str(p) for p in problems if p.file == f"Pulumi.{stack}.yaml" and "stack name" in p.message]
    assert (mine == []) is valid, problems
