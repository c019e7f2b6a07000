"""The flow verifier on the real plans: every flow of every stack holds, and each breaks,
one realistic edit at a time, at the hop that edit blocks (named with its resource)."""

from __future__ import annotations

import json

import pytest

from infra.engine.plan import Resource
from infra.flows import FLOW_NAMES, verify
from tests.flows.conftest import Editable

EXPECTED_FLOWS = {"read", "write", "static", "cdn-origin", "health-check", "app-aws", "rotation",
                  "failover-controller", "admin-vpn", "deployer", "promoted-writes", "audit-trail", "autoscaling",
                  "metrics"}


def test_the_catalog_holds_every_flow_of_the_issue():
    assert set(FLOW_NAMES) == EXPECTED_FLOWS


def test_every_flow_of_every_stack_holds(plans):
    results = verify([plans[s] for s in ("us-east", "eu-west", "ap-se")])
    blocked = {f"{r.stack}/{r.flow}": r.blocking.name + ": " + r.blocking.detail for r in results if not r.ok}
    assert blocked == {}
    seen = {(r.stack, r.flow) for r in results}
    # The CDN's flows are the primary's; promoted writes are the secondaries'.
    assert ("us-east", "static") in seen and ("eu-west", "static") not in seen
    assert ("eu-west", "promoted-writes") in seen and ("us-east", "promoted-writes") not in seen
    assert len(results) == 3 * 10 + 3 + 2


def test_a_fourth_region_from_its_stack_file_alone_passes_every_flow(four_region_plans):
    order = list(four_region_plans)
    results = verify([four_region_plans[s] for s in order])
    assert {r.stack for r in results} == set(order) and len(order) == 4
    assert [f"{r.stack}/{r.flow}: {r.blocking.detail}" for r in results if not r.ok] == []


def blocking(editable: Editable, stack: str, flow: str):
    result = editable.verdict(stack, flow)
    assert not result.ok, f"{stack}/{flow} still holds"
    return result.blocking


def app_role_arn(editable: Editable, stack: str) -> str:
    deployment = editable.of_type(stack, "kubernetes:apps/v1:Deployment")[0]
    account = deployment.inputs["spec"]["template"]["spec"]["serviceAccountName"]
    sa = next(r for r in editable.of_type(stack, "kubernetes:core/v1:ServiceAccount")
              if r.inputs["metadata"]["name"] == account)
    return sa.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]


def inline_policies(editable: Editable, stack: str, role_arn: str) -> list[Resource]:
    name = role_arn.rsplit("/", 1)[-1]
    return [p for p in editable.of_type(stack, "aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == name]


def drop_action(action: str):
    def change(document: dict) -> None:
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            statement["Action"] = [a for a in actions if a != action] or ["none:Nothing"]
    return change


# -- network ---------------------------------------------------------------------------
def test_read_breaks_at_redis_ingress_without_the_app_rule(broken):
    broken.remove("eu-west", "hse-eu-west-sg-redis-in-app")
    hop = blocking(broken, "eu-west", "read")
    assert hop.name == "eu-west app → Redis: ingress of eu-west Redis"
    assert hop.resource == "hse-eu-west-sg-redis" and "6379" in hop.detail


def test_read_breaks_at_the_database_when_the_proxy_is_not_admitted(broken):
    broken.remove("eu-west", "hse-eu-west-sg-database-in-proxy")
    hop = blocking(broken, "eu-west", "read")
    assert hop.name == "eu-west proxy → database: ingress of eu-west database"
    assert hop.resource == "hse-eu-west-sg-database"


def test_read_breaks_when_the_proxy_targets_another_cluster(broken):
    target = broken.find("eu-west", "hse-eu-west-db-proxy-target")
    broken.set(target, "dbClusterIdentifier", "hse-other-db-cluster")
    hop = blocking(broken, "eu-west", "read")
    assert hop.name == "eu-west proxy → database: target" and hop.resource == "hse-eu-west-db-proxy"


def test_write_breaks_without_the_peering_route_on_the_primarys_side(broken):
    # The primary's data subnets' route table loses its route back to eu-west.
    broken.remove("eu-west", "hse-eu-west-peer-us-east-us-east-route-3")
    hop = blocking(broken, "eu-west", "write")
    assert hop.name == "eu-west app → us-east writer: route back us-east database → eu-west app pods"
    assert hop.resource == "hse-us-east-data-us-east-1a" and "no route to 10.1." in hop.detail


def test_write_breaks_without_the_peering_route_on_the_secondarys_side(broken):
    broken.remove("eu-west", "hse-eu-west-peer-us-east-eu-west-route-0")
    hop = blocking(broken, "eu-west", "write")
    # The 0.0.0.0/0 route to the NAT gateway is the longest match left: it cannot reach a VPC.
    assert hop.name == "eu-west app → us-east writer: route eu-west app pods → us-east database"
    assert hop.resource == "hse-eu-west-app-eu-west-1a-egress" and "not to a peering connection" in hop.detail


def test_write_breaks_when_the_primarys_database_does_not_admit_the_peer(broken):
    broken.remove("eu-west", "hse-eu-west-peer-us-east-us-east-database-in-eu-west-10-1-0-0-18")
    hop = blocking(broken, "eu-west", "write")
    assert hop.name == "eu-west app → us-east writer: ingress of us-east database"
    assert hop.resource == "hse-us-east-sg-database" and "from 10.1.0.0/19" in hop.detail


def test_write_breaks_when_the_peering_is_never_accepted(broken):
    accepter = broken.find("eu-west", "hse-eu-west-peer-us-east-accept")
    broken.set(accepter, "autoAccept", False)
    hop = blocking(broken, "eu-west", "write")
    assert "never accepted" in hop.detail and hop.resource == "hse-eu-west-peer-us-east-request"


def test_a_network_acl_that_denies_postgres_blocks_the_write(broken):
    subnets = [r.id for r in broken.of_type("us-east", "aws:ec2/subnet:Subnet") if "-data-" in r.name]
    acl = Resource(urn="urn:pulumi:us-east::hse::aws:ec2/networkAcl:NetworkAcl::hse-us-east-data-acl",
                   type="aws:ec2/networkAcl:NetworkAcl", name="hse-us-east-data-acl", custom=True, id="acl-1",
                   inputs={"subnetIds": subnets,
                           "ingress": [{"ruleNo": 100, "protocol": "tcp", "fromPort": 5432, "toPort": 5432,
                                        "cidrBlock": "10.1.0.0/16", "action": "deny"},
                                       {"ruleNo": 200, "protocol": "-1", "fromPort": 0, "toPort": 0,
                                        "cidrBlock": "0.0.0.0/0", "action": "allow"}],
                           "egress": [{"ruleNo": 100, "protocol": "-1", "fromPort": 0, "toPort": 0,
                                       "cidrBlock": "0.0.0.0/0", "action": "allow"}]})
    acl.outputs = dict(acl.inputs)
    broken.add("us-east", acl)
    hop = blocking(broken, "eu-west", "write")
    assert hop.name == "eu-west app → us-east writer: network ACLs" and hop.resource == "hse-us-east-data-acl"
    assert broken.verdict("ap-se", "write").ok  # ap-se's 10.2.0.0/16 is not denied


def test_rotation_breaks_when_its_function_loses_egress_to_the_database(broken):
    broken.remove("us-east", "hse-us-east-sg-app-out-database")
    hop = blocking(broken, "us-east", "rotation")
    assert hop.name == "us-east rotation → database: egress of us-east rotation function"
    assert hop.resource == "hse-us-east-sg-app"


# -- identity ----------------------------------------------------------------------------
def test_the_app_identity_breaks_when_the_trust_names_another_service_account(broken):
    arn = app_role_arn(broken, "eu-west")
    role = next(r for r in broken.of_type("eu-west", "aws:iam/role:Role") if r.outputs.get("arn") == arn)

    def other_subject(document: dict) -> None:
        for statement in document["Statement"]:
            for test in statement.get("Condition", {}).values():
                for key in list(test):
                    if key.endswith(":sub"):
                        test[key] = "system:serviceaccount:hse:someone-else"
    broken.edit_json(role, "assumeRolePolicy", other_subject)
    hop = blocking(broken, "eu-west", "read")
    assert hop.name == "eu-west app pods: AWS identity" and ":sub" in hop.detail


def test_sign_in_breaks_without_rds_db_connect(broken):
    arn = app_role_arn(broken, "eu-west")
    for policy in inline_policies(broken, "eu-west", arn):
        broken.edit_json(policy, "policy", drop_action("rds-db:connect"))
    hop = blocking(broken, "eu-west", "read")
    assert hop.name == "eu-west app → proxy: sign-in" and "rds-db:connect" in hop.detail


def test_app_metrics_break_when_the_namespace_condition_names_another_namespace(broken):
    arn = app_role_arn(broken, "ap-se")

    def other_namespace(document: dict) -> None:
        for statement in document["Statement"]:
            for test in statement.get("Condition", {}).values():
                if "cloudwatch:namespace" in test:
                    test["cloudwatch:namespace"] = "HSE/Other"
    for policy in inline_policies(broken, "ap-se", arn):
        broken.edit_json(policy, "policy", other_namespace)
    hop = blocking(broken, "ap-se", "app-aws")
    assert hop.name == "ap-se app → HSE/App metric" and "cloudwatch:namespace" in hop.detail


def test_static_assets_break_when_the_bucket_trusts_another_distribution(broken):
    policy = broken.find("us-east", "hse-us-east-cdn-uploads-policy")

    def other_distribution(document: dict) -> None:
        for statement in document["Statement"]:
            for test in statement.get("Condition", {}).values():
                if "AWS:SourceArn" in test:
                    test["AWS:SourceArn"] = "arn:aws:cloudfront::111122223333:distribution/EOTHER"
    broken.edit_json(policy, "policy", other_distribution)
    hop = blocking(broken, "us-east", "static")
    assert hop.name == "us-east CDN → uploads bucket: read" and "AWS:SourceArn" in hop.detail


def test_the_controller_cannot_hear_a_region_whose_forwarding_role_lost_put_events(broken):
    policy = broken.find("us-east", "hse-us-east-failover-forward-policy")
    broken.edit_json(policy, "policy", drop_action("events:PutEvents"))
    hop = blocking(broken, "ap-se", "failover-controller")
    assert hop.name == "ap-se health alarm → controller: forward to eu-west-1"
    assert hop.resource == "hse-us-east-failover-forward-role"


def test_the_controller_is_never_invoked_without_its_lambda_permission(broken):
    broken.remove("us-east", "hse-us-east-failover-health-forwarded-invoke")
    hop = blocking(broken, "us-east", "failover-controller")
    assert hop.name == "us-east health alarm → controller: invoke" and hop.resource == "hse-us-east-failover-function"


def test_the_controller_cannot_move_dns_in_another_zone(broken):
    policy = broken.find("us-east", "hse-us-east-failover-policy")

    def other_zone(document: dict) -> None:
        for statement in document["Statement"]:
            if statement.get("Sid") == "Dns":
                statement["Resource"] = ["arn:aws:route53:::hostedzone/ZOTHER"]
    broken.edit_json(policy, "policy", other_zone)
    hop = blocking(broken, "eu-west", "failover-controller")
    assert hop.name == "eu-west controller → route53:ChangeResourceRecordSets"


def test_cloudtrail_cannot_describe_a_key_whose_only_statement_needs_its_encryption_context(broken):
    key = broken.find("us-east", "hse-us-east-keys-us-east-1")

    def merged(document: dict) -> None:
        statements = {s["Sid"]: s for s in document["Statement"]}
        statements["CloudTrailEncryptsTheTrail"]["Action"] = ["kms:GenerateDataKey*", "kms:DescribeKey"]
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "CloudTrailDescribesTheKey"]
    broken.edit_json(key, "policy", merged)
    hop = blocking(broken, "us-east", "audit-trail")
    assert hop.name == "us-east CloudTrail → key: DescribeKey" and "EncryptionContext" in hop.detail


def test_a_rotation_function_bound_to_another_secret_cannot_rotate_this_one(broken):
    rotation = broken.find("eu-west", "hse-eu-west-cache-platform-rotation")
    other = broken.clone("eu-west", rotation.name,
                         secretId="arn:aws:secretsmanager:eu-west-1:111122223333:secret:hse/other-tenant")
    hop = blocking(broken, "eu-west", "rotation")
    assert hop.resource == rotation.name and "serves 2 secrets but rotates only the one of its SECRET_ARN" in hop.detail
    other_hop = next(h for h in broken.verdict("eu-west", "rotation").hops if h.resource == other.name)
    assert not other_hop.ok and "is bound to arn:aws:secretsmanager:eu-west-1" in other_hop.detail


def test_a_rotation_function_secrets_manager_may_not_invoke_is_found(broken):
    broken.remove("ap-se", "hse-ap-se-cache-platform-rotation-invoke")
    hop = blocking(broken, "ap-se", "rotation")
    assert hop.name.endswith(": invoke") and "Secrets Manager" in hop.detail


def test_hpas_without_metrics_server_are_found(broken):
    release = next(r for r in broken.of_type("eu-west", "kubernetes:helm.sh/v3:Release")
                   if r.inputs.get("chart") == "metrics-server")
    broken.remove("eu-west", release.name)
    hop = blocking(broken, "eu-west", "autoscaling")
    assert hop.name == "eu-west metrics-server" and "HPAs read no" in hop.detail


def test_the_autoscaler_cannot_resize_groups_of_another_cluster(broken):
    arn = next(r.outputs["arn"] for r in broken.of_type("ap-se", "aws:iam/role:Role")
               if "cluster-autoscaler" in r.name)
    policy = next(p for p in inline_policies(broken, "ap-se", arn))

    def other_cluster(document: dict) -> None:
        for statement in document["Statement"]:
            if "Condition" in statement:
                statement["Condition"] = {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/other": "owned"}}
    broken.edit_json(policy, "policy", other_cluster)
    hop = blocking(broken, "ap-se", "autoscaling")
    assert hop.name.startswith("ap-se cluster autoscaler → SetDesiredCapacity") and "ResourceTag" in hop.detail


def test_an_app_endpoint_that_no_resource_has_is_found(broken):
    deployment = broken.of_type("eu-west", "kubernetes:apps/v1:Deployment")[0]
    spec = json.loads(json.dumps(deployment.inputs["spec"]))
    for env in spec["template"]["spec"]["containers"][0]["env"]:
        if env["name"] == "REDIS_CONFIGURATION_ENDPOINT":
            env["value"] = "clustercfg.hse-eu-west-cache-old.ba6c73.euw1.cache.amazonaws.com"
    broken.set(deployment, "spec", spec)
    hop = blocking(broken, "eu-west", "app-aws")
    assert hop.name == "eu-west app environment" and "REDIS_CONFIGURATION_ENDPOINT" in hop.detail


# -- wiring -----------------------------------------------------------------------------
def test_health_check_breaks_when_it_probes_another_path(broken):
    check = broken.find("eu-west", "hse-eu-west-dns-health")
    broken.set(check, "resourcePath", "/healthz")
    hop = blocking(broken, "eu-west", "health-check")
    assert "probes /healthz, the pods answer /api/health" in hop.detail and hop.resource == "hse-eu-west-dns-health"


def test_health_check_breaks_when_its_name_leads_nowhere(broken):
    record = broken.find("eu-west", "hse-eu-west-endpoint")
    broken.set(record, "records", ["elsewhere.example.net"])
    hop = blocking(broken, "eu-west", "health-check")
    assert hop.name == "eu-west health check eu-west.hse-digital.example.com"


def test_cdn_origin_breaks_when_the_origin_name_has_no_record(broken):
    distribution = broken.find("us-east", "hse-us-east-cdn-distribution")
    origins = json.loads(json.dumps(distribution.outputs["origins"]))
    for origin in origins:
        if origin.get("originId") == "app":
            origin["domainName"] = "origin.hse-digital.example.com"
    broken.set(distribution, "origins", origins)
    hop = blocking(broken, "us-east", "cdn-origin")
    assert hop.name == "us-east CDN → origin app" and "resolves to no load balancer" in hop.detail


def test_an_alarm_read_with_dimensions_nobody_publishes_is_found(broken):
    alarm = broken.find("eu-west", "hse-eu-west-db-alarms-cpu")
    dims = alarm.outputs["dimensions"]
    broken.set(alarm, "dimensions", {"DBClusterId": dims["DBClusterIdentifier"]})
    hop = blocking(broken, "eu-west", "metrics")
    assert hop.resource == "hse-eu-west-db-alarms-cpu" and "DBClusterId" in hop.detail


def test_promoted_writes_break_when_the_proxy_targets_another_cluster(broken):
    target = broken.find("ap-se", "hse-ap-se-db-proxy-target")
    broken.set(target, "dbClusterIdentifier", "hse-us-east-db-cluster")
    hop = blocking(broken, "ap-se", "promoted-writes")
    assert hop.name == "ap-se proxy → promoted cluster"


def test_admins_lose_a_region_whose_vpn_authorization_rule_is_gone(broken):
    rule = next(r for r in broken.of_type("us-east", "aws:ec2clientvpn/authorizationRule:AuthorizationRule")
                if r.inputs["targetNetworkCidr"] == "10.1.0.0/16")
    broken.remove("us-east", rule.name)
    hop = blocking(broken, "eu-west", "admin-vpn")
    assert hop.name == "admin VPN → eu-west: authorization" and "10.1.0.0/16" in hop.detail
    assert broken.verdict("ap-se", "admin-vpn").ok


def test_admins_cannot_reach_the_home_database_without_its_rule(broken):
    broken.remove("us-east", "hse-us-east-admin-vpn-database-in")
    hop = blocking(broken, "us-east", "admin-vpn")
    assert hop.name == "admin VPN → us-east database: ingress of us-east database"


def test_the_deployer_path_refuses_an_api_open_to_the_internet(broken):
    cluster = broken.of_type("eu-west", "aws:eks/cluster:Cluster")[0]
    config = dict(cluster.outputs["vpcConfig"], endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"])
    broken.set(cluster, "vpcConfig", config)
    hop = blocking(broken, "eu-west", "deployer")
    assert "whole internet" in hop.detail


def test_a_hop_whose_subject_is_in_a_stack_not_loaded_is_unknown_not_blocked(plans):
    results = verify([plans["eu-west"]], stacks=["eu-west"], flows=["failover-controller"], complete=False)
    assert results[0].verdict == "unknown" and results[0].blocking.unknown


def test_readme_and_architecture_show_the_flows_table_of_the_real_plans(plans):
    from pathlib import Path
    from infra.cli.flows_view import matrix
    table = matrix(verify([plans[s] for s in ("us-east", "eu-west", "ap-se")]))
    root = Path(__file__).resolve().parents[2]
    for doc in ("README.md", "docs/architecture.md"):
        assert table in (root / doc).read_text(), \
            f"{doc}: refresh the table with `python -m infra.cli flows --all --markdown FILE`"


def test_with_another_cdn_the_dashboard_reads_no_cloudfront_metric(tmp_path):
    # The verifier found it: the dashboard read CloudFront's hit ratio for a Fastly service id.
    from infra.engine import Engine
    from tests.conftest import copy_project, edit_stack
    project = copy_project(tmp_path / "project")
    edit_stack(project, "us-east", cdnProvider="fastly")
    plans = Engine(project).plan_all()
    results = verify(plans, flows=["metrics"])
    assert [r.stack for r in results if not r.ok] == []
    board = next(r for r in plans[0].resources if r.type == "aws:cloudwatch/dashboard:Dashboard")
    widgets = json.loads(board.inputs["dashboardBody"])["widgets"]
    assert widgets[3]["type"] == "text" and "fastly reports the hit ratio" in widgets[3]["properties"]["markdown"]
    assert "AWS/CloudFront" not in board.inputs["dashboardBody"]


def test_the_global_lag_is_read_with_its_source_region_or_flagged(broken):
    alarm = next(r for r in broken.of_type("eu-west", "aws:cloudwatch/metricAlarm:MetricAlarm")
                 if r.inputs.get("metricName") == "AuroraGlobalDBReplicationLag")
    assert sorted(alarm.inputs["dimensions"]) == ["DBClusterIdentifier", "SourceRegion"]
    assert alarm.inputs["dimensions"]["SourceRegion"] == "us-east-1"
    board = broken.of_type("eu-west", "aws:cloudwatch/dashboard:Dashboard")[0]
    assert "{AWS/RDS,DBClusterIdentifier,SourceRegion} MetricName=\\\"AuroraGlobalDBReplicationLag\\\"" in \
        board.inputs["dashboardBody"]
    broken.set(alarm, "dimensions", {"DBClusterIdentifier": alarm.inputs["dimensions"]["DBClusterIdentifier"]})
    hop = blocking(broken, "eu-west", "metrics")
    assert hop.resource == alarm.name and "SourceRegion" in hop.detail
