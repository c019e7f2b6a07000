"""The workloads tier in the plan: EKS, the app's Kubernetes objects, the regional load
balancer and its record, observability, admin VPN, audits and the cost estimate."""

from __future__ import annotations

import json

import pytest

from components.eks_cluster import LOG_TYPES, node_counts
from infra.engine.cost import estimate, premium
from tests.conftest import STACKS

INSTANCES = {"us-east": 5, "eu-west": 3, "ap-se": 3}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SERVICE = "kubernetes:core/v1:Service"
CLUSTER = "aws:eks/cluster:Cluster"
NODES = "aws:eks/nodeGroup:NodeGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.mark.parametrize("stack", STACKS)
def test_replicas_and_autoscaler_minimum_are_the_regions_instance_count(plans, stack) -> None:
    plan = plans[stack]
    (deployment,) = plan.find(DEPLOYMENT)
    assert deployment.input("spec")["replicas"] == INSTANCES[stack] == plan.outputs["appInstanceCount"]
    assert deployment.ignore_changes == ["spec.replicas"]
    (hpa,) = plan.find(HPA)
    spec = hpa.input("spec")
    assert (spec["minReplicas"], spec["maxReplicas"]) == (INSTANCES[stack], 15)
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hse-app-blue"}
    assert [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in spec["metrics"]] == \
           [("cpu", 70), ("memory", 80)]
    (pdb,) = plan.find(PDB)
    assert spec["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 300}}
    assert pdb.input("spec") == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "hse-app", "colour": "blue"}}}


@pytest.mark.parametrize("stack", STACKS)
def test_pods_are_probed_hardened_and_spread(plans, stack) -> None:
    template = plans[stack].single(DEPLOYMENT).input("spec")["template"]["spec"]
    (container,) = template["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/api/health", "port": 8080}
    assert container["image"] == "ghcr.io/hse-digital/app:1.0.0"
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1024Mi"},
                                      "limits": {"cpu": "1000m", "memory": "1024Mi"}}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    assert template["securityContext"]["runAsNonRoot"] is True
    zones = template["topologySpreadConstraints"][0]
    assert (zones["topologyKey"], zones["whenUnsatisfiable"]) == ("topology.kubernetes.io/zone", "DoNotSchedule")
    strategy = plans[stack].single(DEPLOYMENT).input("spec")["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_is_configured_from_the_other_tiers_outputs(plans, stack) -> None:
    plan = plans[stack]
    container = plan.single(DEPLOYMENT).input("spec")["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    outputs = plan.outputs
    assert env["DB_ENDPOINT"] == outputs["dbAppEndpoint"] and env["DB_WRITER_ENDPOINT"] == outputs["dbWriterEndpoint"]
    assert env["DB_READER_ENDPOINT"] == outputs["dbReaderEndpoint"]
    assert env["DB_PROXY_ENDPOINT"] == outputs["dbProxyEndpoint"] and env["DB_PORT"] == str(outputs["dbPort"])
    assert env["REDIS_CONFIGURATION_ENDPOINT"] == outputs["cacheConfigurationEndpoint"]
    assert env["REDIS_PORT"] == str(outputs["cachePort"]) and env["DB_POOL_SIZE"] == "20"
    assert (env["HSE_STACK"], env["HSE_REGION"], env["HSE_ROUTING_TABLE_VERSION"]) == \
           (stack, outputs["awsRegion"], outputs["routingTableVersion"])
    assert container["envFrom"] == [{"secretRef": {"name": "hse-app-secrets"}}]
    synced = plan.one("kubernetes:external-secrets.io/v1:ExternalSecret", f"hse-{stack}-app-secrets")
    data = {d["secretKey"]: d["remoteRef"] for d in synced.input("spec")["data"]}
    assert data["DB_PASSWORD"] == {"key": outputs["dbSecretArn"], "property": "password"}
    assert data["REDIS_PLATFORM_PASSWORD"] == {"key": outputs["cacheTenantSecretArns"]["platform"],
                                               "property": "password"}
    assert synced.input("spec")["refreshInterval"] == "1h"
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-app-secrets-policy").input("policy"))
    read, decrypt = policy["Statement"]
    assert read["Resource"] == [outputs["dbSecretArn"], *sorted(outputs["cacheTenantSecretArns"].values())]
    assert decrypt["Resource"] == outputs["kmsKeyArn"]
    # No secret value is written into the plan: only references.
    assert not [e for e in container["env"] if "PASSWORD" in e["name"]]


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_names_the_regions_provider(plans, stack) -> None:
    plan = plans[stack]
    (provider,) = plan.find("pulumi:providers:kubernetes")
    objects = [r for r in plan.managed() if r.type.startswith("kubernetes:")]
    assert len(objects) >= 9
    for r in objects:
        assert r.provider_urn == provider.urn, r.urn
    cluster, nodes = plan.single(CLUSTER), plan.single(NODES)
    # The provider waits for nodes to exist, and its kubeconfig names this cluster.
    assert nodes.urn in provider.dependencies
    config = json.loads(provider.input("kubeconfig"))
    assert config["clusters"][0]["cluster"]["server"] == cluster.output("endpoint")
    assert config["users"][0]["user"]["exec"]["args"][-5:] == [cluster.output("name"), "--region",
                                                              plans[stack].outputs["awsRegion"], "--output", "json"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_is_private_encrypted_and_logs_everything(plans, stack) -> None:
    plan = plans[stack]
    cluster = plan.single(CLUSTER)
    vpc = cluster.input("vpcConfig")
    # Private for everything inside; public only to the deployer's network (the first deploy).
    assert (vpc["endpointPrivateAccess"], vpc["endpointPublicAccess"]) == (True, True)
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"] and vpc["subnetIds"] == plan.outputs["appSubnetIds"]
    assert cluster.input("encryptionConfig") == {"provider": {"keyArn": plan.outputs["kmsKeyArn"]},
                                                 "resources": ["secrets"]}
    assert cluster.input("enabledClusterLogTypes") == LOG_TYPES and cluster.input("version") == "1.33"
    assert cluster.input("deletionProtection") is True
    nodes = plan.single(NODES)
    low, desired, high = node_counts(INSTANCES[stack], 15, 2)
    assert nodes.input("scalingConfig") == {"minSize": 3, "desiredSize": desired, "maxSize": high} and low == 3
    assert (nodes.input("capacityType"), nodes.input("instanceTypes"), nodes.input("amiType")) == \
           ("ON_DEMAND", ["m7g.large"], "AL2023_ARM_64_STANDARD")
    assert nodes.ignore_changes == ["scalingConfig.desiredSize"]
    assert nodes.input("subnetIds") == plan.outputs["appSubnetIds"]
    assert plan.find("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0].input("clientIdLists") == \
           ["sts.amazonaws.com"]


def test_node_counts_cover_the_autoscalers_range() -> None:
    assert node_counts(5, 15, 2) == (3, 4, 9)
    assert node_counts(3, 15, 2) == (3, 3, 9)
    assert node_counts(1, 1, 2) == (3, 3, 3)
    assert node_counts(20, 40, 4) == (3, 6, 11)


@pytest.mark.parametrize("stack", STACKS)
def test_the_regional_load_balancer_is_the_regions_endpoint(plans, stack) -> None:
    plan = plans[stack]
    service = plan.one(SERVICE, f"hse-{stack}-app-blue-lb")
    annotations = service.input("metadata")["annotations"]
    cert = plan.one("aws:acm/certificateValidation:CertificateValidation", f"hse-{stack}-cert-validated")
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] == cert.output("certificateArn")
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] == "443"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"] == \
        "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"] == "true"
    spec = service.input("spec")
    assert spec["type"] == "LoadBalancer" and spec["selector"] == {"app": "hse-app", "colour": "blue"}
    assert spec["ports"] == [{"name": "https", "port": 443, "targetPort": 8080, "protocol": "TCP"}]
    record = plan.one("aws:route53/record:Record", f"hse-{stack}-endpoint")
    hostname = service.output("status")["loadBalancer"]["ingress"][0]["hostname"]
    assert record.input("name") == plan.outputs["regionalEndpoint"] == plan.one(
        "aws:route53/healthCheck:HealthCheck", f"hse-{stack}-dns-health").input("fqdn")
    # endpoint -> live (weighted by colour) -> the colour's name -> its load balancer
    assert record.input("records") == [f"live-{stack}.hse-digital.example.com"] and record.input("ttl") == 60
    live = plan.one("aws:route53/record:Record", f"hse-{stack}-live-blue")
    colour_check = plan.one("aws:route53/healthCheck:HealthCheck", f"hse-{stack}-blue-health")
    assert (live.input("records"), live.input("weightedRoutingPolicies"), live.input("healthCheckId")) == \
           ([f"{stack}-blue.hse-digital.example.com"], [{"weight": 100}], colour_check.id)
    assert colour_check.input("fqdn") == f"{stack}-blue.hse-digital.example.com"
    assert plan.one("aws:route53/record:Record", f"hse-{stack}-blue").input("records") == [hostname]
    assert plans[stack].one("aws:acm/certificate:Certificate", f"hse-{stack}-cert").input("domainName") == \
           "*.hse-digital.example.com"


def test_only_the_primary_declares_the_shared_certificate_validation_record(plans) -> None:
    assert plans["us-east"].one("aws:route53/record:Record", "hse-us-east-cert-validation")
    for stack in ("eu-west", "ap-se"):
        assert not plans[stack].find("aws:route53/record:Record", f"hse-{stack}-cert-validation")


@pytest.mark.parametrize("stack", STACKS)
def test_every_alarm_notifies_its_regions_topic(plans, stack) -> None:
    plan = plans[stack]
    alarms = plan.find(ALARM)
    assert len(alarms) >= 10
    for alarm in alarms:
        if "hse:stop-condition" in (alarm.input("tags") or {}):
            continue  # the FIS stop condition pages nobody
        region = plan.get(alarm.provider_urn).input("region")
        # Route53's alarms live in us-east-1 and notify the edge topic there; the rest the region's.
        expected = plan.outputs["edgeAlarmTopicArn"] if alarm.input("namespace") == "AWS/Route53" \
            else plan.outputs["alarmTopicArn"]
        assert alarm.input("alarmActions") == [expected], alarm.urn
        assert expected.split(":")[3] == region


@pytest.mark.parametrize("stack", STACKS)
def test_the_dashboard_shows_the_six_key_metrics(plans, stack) -> None:
    dashboard = plans[stack].single("aws:cloudwatch/dashboard:Dashboard")
    widgets = json.loads(dashboard.input("dashboardBody"))["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert [t.split(" (")[0] for t in titles] == [
        "Request latency by region", "Database replication lag", "Redis memory usage", "CDN cache hit ratio",
        "Failovers and failbacks into " + stack, "Error rate by region"]
    text = json.dumps(widgets)
    failover = widgets[4]["properties"]["metrics"][0]["expression"]
    assert failover == "SEARCH('{HSE/Platform,FailedRegion,Kind,TargetRegion} MetricName=\"FailoverEvent\"', 'Sum', 60)"
    for metric in ("TimeToFirstByte", "AuroraGlobalDBReplicationLag", "DatabaseMemoryUsagePercentage",
                   "CacheHitRate", "FailoverEvent", "5xxErrorRate"):
        assert metric in text
    assert plans[stack].outputs["cdnDistributionId"] in text


@pytest.mark.parametrize("stack", STACKS)
def test_the_alarm_topic_is_encrypted_with_the_regional_key(plans, stack) -> None:
    plan = plans[stack]
    topic = plan.one("aws:sns/topic:Topic", f"hse-{stack}-alarms")
    assert topic.input("kmsMasterKeyId") == plan.outputs["kmsKeyArn"]
    assert topic.output("arn") == plan.outputs["alarmTopicArn"]


def test_audits_run_everywhere_and_the_trail_on_the_primary(plans) -> None:
    for stack, plan in plans.items():
        assert plan.single("aws:guardduty/detector:Detector").input("enable") is True
        assert plan.single("aws:securityhub/account:Account").input("enableDefaultStandards") is True
    trail = plans["us-east"].single("aws:cloudtrail/trail:Trail")
    assert (trail.input("isMultiRegionTrail"), trail.input("includeGlobalServiceEvents"),
            trail.input("enableLogFileValidation")) == (True, True, True)
    assert trail.input("kmsKeyId") == plans["us-east"].outputs["kmsKeyArn"]
    for stack in ("eu-west", "ap-se"):
        assert plans[stack].find("aws:cloudtrail/trail:Trail") == []
    # Without certificates configured, the program makes its own and the VPN exists.
    vpn = plans["us-east"].single("aws:ec2clientvpn/endpoint:Endpoint")
    server = plans["us-east"].one("aws:acm/certificate:Certificate", "hse-us-east-admin-pki-server")
    assert vpn.input("serverCertificateArn") == server.outputs["arn"]
    assert vpn.input("authenticationOptions")[0]["rootCertificateChainArn"] == server.outputs["arn"]
    for stack in ("eu-west", "ap-se"):
        assert plans[stack].find("aws:ec2clientvpn/endpoint:Endpoint") == []


def test_non_default_workload_values_arrive(staging) -> None:
    plan = staging["eu-west"]
    deployments = {d.input("metadata")["name"]: d for d in plan.find(DEPLOYMENT)}
    assert set(deployments) == {"hse-app-blue", "hse-app-green"}
    container = deployments["hse-app-green"].input("spec")["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/hse-digital/app:2.3.1"
    assert container["resources"]["requests"] == {"cpu": "750m", "memory": "1536Mi"}
    assert container["readinessProbe"]["httpGet"]["port"] == 9090
    services = {s.input("metadata")["name"]: s.input("spec")["selector"] for s in plan.find(SERVICE)}
    assert services == {"hse-app-blue": {"app": "hse-app", "colour": "blue"},
                        "hse-app-green": {"app": "hse-app", "colour": "green"}}
    weights = {r.input("setIdentifier"): r.input("weightedRoutingPolicies") for r in plan.find("aws:route53/record:Record")
               if r.input("name") == "live-eu-west.staging.hse-digital.example.com"}
    assert weights == {"blue": [{"weight": 0}], "green": [{"weight": 100}]}
    hpas = plan.find(HPA)
    assert {(h.input("spec")["minReplicas"], h.input("spec")["maxReplicas"]) for h in hpas} == {(3, 9)}
    assert [m["resource"]["target"]["averageUtilization"] for m in hpas[0].input("spec")["metrics"]] == [60, 75]
    cluster = plan.single(CLUSTER)
    assert cluster.input("version") == "1.32"
    assert cluster.input("vpcConfig")["endpointPublicAccess"] is True
    assert cluster.input("vpcConfig")["publicAccessCidrs"] == ["203.0.113.0/24"]
    nodes = plan.single(NODES)
    assert (nodes.input("capacityType"), nodes.input("instanceTypes"), nodes.input("amiType")) == \
           ("SPOT", ["m6i.large"], "AL2023_x86_64_STANDARD")
    assert nodes.input("scalingConfig") == {"minSize": 3, "desiredSize": 3, "maxSize": 4}
    (subscription,) = plan.find("aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.input("protocol"), subscription.input("endpoint")) == ("email", "oncall@hse-digital.example.com")
    latency = [a for a in plan.find(ALARM) if a.input("metricName") == "TimeToFirstByte"][0]
    errors = [a for a in plan.find(ALARM) if a.input("metricName") == "5xxErrorRate"][0]
    assert (latency.input("threshold"), errors.input("threshold")) == (750, 3)


def test_the_admin_vpn_reaches_every_region(staging) -> None:
    plan = staging["us-east"]
    endpoint = plan.single("aws:ec2clientvpn/endpoint:Endpoint")
    assert endpoint.input("splitTunnel") is True and endpoint.input("clientCidrBlock") == "172.20.0.0/22"
    assert endpoint.input("serverCertificateArn").endswith("11111111-2222-3333-4444-555555555555")
    assert endpoint.input("authenticationOptions")[0]["type"] == "certificate-authentication"
    assert endpoint.input("connectionLogOptions")["enabled"] is True
    assert endpoint.input("dnsServers") == ["10.0.0.2"]
    rules = {r.input("targetNetworkCidr") for r in plan.find("aws:ec2clientvpn/authorizationRule:AuthorizationRule")}
    assert rules == {"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"}
    routes = {(r.input("destinationCidrBlock")) for r in plan.find("aws:ec2clientvpn/route:Route")}
    assert routes == {"10.1.0.0/16", "10.2.0.0/16"}
    assert len(plan.find("aws:ec2clientvpn/route:Route")) == 4 and \
           len(plan.find("aws:ec2clientvpn/networkAssociation:NetworkAssociation")) == 2


def test_uploads_and_logs_move_to_the_archive_tier(staging) -> None:
    plan = staging["us-east"]
    lifecycle = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                         "hse-us-east-cdn-uploads-lifecycle")
    assert {"transitions": [{"days": 60, "storageClass": "GLACIER_IR"}]}.items() <= lifecycle.input("rules")[0].items()


def test_the_cost_estimate_applies_regional_premiums(plans) -> None:
    assert (premium("us-east-1"), premium("eu-west-1"), premium("ap-southeast-1")) == (1.0, 1.10, 1.15)
    costs = {stack: estimate(plan) for stack, plan in plans.items()}
    for stack, cost in costs.items():
        assert cost.unpriced == set(), stack
        region = plans[stack].outputs["awsRegion"]
        assert cost.by_region[region] > 1000
        items = [what for r, what, _ in cost.items if r == region]
        assert "EKS control plane" in items and "network load balancer" in items and "NAT gateway" in items
    eks = {stack: next(usd for r, what, usd in cost.items if what == "EKS control plane")
           for stack, cost in costs.items()}
    assert (eks["us-east"], eks["eu-west"], eks["ap-se"]) == (73.0, 80.3, 83.95)


@pytest.mark.parametrize("stack", STACKS)
def test_metrics_server_and_the_cluster_autoscaler_run_pinned(plans, stack) -> None:
    plan = plans[stack]
    releases = {r.input("chart"): r for r in plan.find("kubernetes:helm.sh/v3:Release")}
    assert (releases["metrics-server"].input("version"), releases["metrics-server"].input("repositoryOpts")) == (
        "3.12.2", {"repo": "https://kubernetes-sigs.github.io/metrics-server/"})
    autoscaler = releases["cluster-autoscaler"]
    assert autoscaler.input("version") == "9.52.1" and autoscaler.input("namespace") == "kube-system"
    values = autoscaler.input("values")
    cluster = plan.single(CLUSTER).output("name")
    assert values["autoDiscovery"] == {"clusterName": cluster} and values["image"] == {"tag": "v1.33.1"}
    role = plan.one("aws:iam/role:Role", f"hse-{stack}-cluster-autoscaler")
    assert values["rbac"]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": role.output("arn")}
    trust = json.loads(role.input("assumeRolePolicy"))["Statement"][0]["Condition"]["StringEquals"]
    assert sorted(trust.values()) == ["sts.amazonaws.com", "system:serviceaccount:kube-system:cluster-autoscaler"]
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-cluster-autoscaler-policy")
                        .input("policy"))
    scale = policy["Statement"][1]
    assert scale["Action"] == ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    assert scale["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}}
    discover = policy["Statement"][0]
    assert discover["Resource"] == "*" and not any(a.startswith("autoscaling:Set") or a.startswith("autoscaling:Term")
                                                   for a in discover["Action"])


def test_the_autoscaler_image_follows_every_supported_kubernetes_version() -> None:
    from infra.config.workloads import KUBERNETES_VERSIONS
    from infra.domain.cluster_addons import autoscaler_image
    assert [autoscaler_image(v) for v in KUBERNETES_VERSIONS] == ["v1.31.4", "v1.32.3", "v1.33.1", "v1.34.0",
                                                                  "v1.35.0"]


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_carry_the_stacks_tags_and_the_autoscalers_discovery_tags(plans, stack) -> None:
    plan = plans[stack]
    template = plan.single("aws:ec2/launchTemplate:LaunchTemplate")
    region = plan.outputs["awsRegion"]
    tags = {"project": "hse-digital", "stack": stack, "region": region,
            "role": "primary" if stack == "us-east" else "secondary", "environment": "production",
            "managed-by": "pulumi", "cost-center": "hse-platform", "Name": f"hse-{stack}-eks-node"}
    assert template.input("tagSpecifications") == [{"resourceType": kind, "tags": tags}
                                                    for kind in ("instance", "volume", "network-interface")]
    assert "instanceType" not in template.inputs and "imageId" not in template.inputs
    nodes = plan.single(NODES)
    cluster = plan.single(CLUSTER).output("name")
    assert nodes.input("tags") == {"k8s.io/cluster-autoscaler/enabled": "true",
                                   f"k8s.io/cluster-autoscaler/{cluster}": "owned"}
    assert nodes.input("instanceTypes") == ["m7g.large"]
    assert nodes.ignore_changes == ["scalingConfig.desiredSize"]
    assert nodes.input("scalingConfig") == {"minSize": 3, "desiredSize": 4 if stack == "us-east" else 3, "maxSize": 9}


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_carry_the_app_group_and_pods_their_own_identity(plans, stack) -> None:
    plan = plans[stack]
    template = plan.single("aws:ec2/launchTemplate:LaunchTemplate")
    cluster_group = plan.single(CLUSTER).output("vpcConfig")["clusterSecurityGroupId"]
    assert template.input("vpcSecurityGroupIds") == [cluster_group, plan.outputs["appSecurityGroupId"]]
    assert template.input("metadataOptions") == {"httpEndpoint": "enabled", "httpTokens": "required",
                                                 "httpPutResponseHopLimit": 1}
    nodes = plan.single(NODES)
    assert nodes.input("launchTemplate")["id"] == template.id
    deployment = plan.find(DEPLOYMENT)[0]
    assert deployment.input("spec")["template"]["spec"]["serviceAccountName"] == "hse-app"
    role = plan.one("aws:iam/role:Role", f"hse-{stack}-app-identity")
    account = next(a for a in plan.find("kubernetes:core/v1:ServiceAccount") if a.input("metadata")["name"] == "hse-app")
    assert account.input("metadata")["annotations"] == {"eks.amazonaws.com/role-arn": role.output("arn")}
    statements = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-app-identity-policy")
                            .input("policy"))["Statement"]
    proxy = plan.single("aws:rds/proxy:Proxy").output("arn").rsplit(":", 1)[-1]
    region, account_id = plan.outputs["awsRegion"], plan.outputs["accountId"]
    assert statements == [
        {"Sid": "SignInToTheProxy", "Effect": "Allow", "Action": "rds-db:connect",
         "Resource": f"arn:aws:rds-db:{region}:{account_id}:dbuser:{proxy}/hse_admin"},
        {"Sid": "ReadItsSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": sorted([plan.outputs["dbSecretArn"], plan.outputs["cacheTenantSecretArns"]["platform"]])},
        {"Sid": "DecryptItsSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": plan.outputs["kmsKeyArn"],
         "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
        {"Sid": "ReadTheFailoverState", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:{region}:{account_id}:table/hse-production-failover-state"},
        {"Sid": "PublishTheAppsMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": "HSE/App"}}}]
    env = {e["name"]: e["value"] for e in deployment.input("spec")["template"]["spec"]["containers"][0]["env"]}
    primary_writer = plans["us-east"].outputs["dbWriterEndpoint"] if stack != "us-east" \
        else plans["us-east"].outputs["dbProxyEndpoint"]
    assert (env["DB_PRIMARY_WRITER_ENDPOINT"], env["DB_USER"], env["HSE_STATE_TABLE"]) == (
        primary_writer, "hse_admin", "hse-production-failover-state")
    assert (env["DB_IAM_AUTH"], env["DB_SECRET_ARN"], env["REDIS_PLATFORM_SECRET_ARN"], env["AWS_REGION"]) == (
        "proxy", plan.outputs["dbSecretArn"], plan.outputs["cacheTenantSecretArns"]["platform"], region)
    # Each secret the app reads is encrypted with the key it may decrypt (a secondary reads
    # the primary's database secret through its replica in the region).
    keys = {}
    for secret in (s for p in plans.values() for s in p.find("aws:secretsmanager/secret:Secret")):
        name = secret.output("arn").split(":secret:")[1]
        keys[secret.output("arn").split(":")[3], name] = secret.output("kmsKeyId")
        keys.update({(r["region"], name): r["kmsKeyId"] for r in secret.output("replicas") or []})
    for arn in (env["DB_SECRET_ARN"], env["REDIS_PLATFORM_SECRET_ARN"]):
        assert keys[region, arn.split(":secret:")[1]] == plan.outputs["kmsKeyArn"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_names_operators_use_are_stack_outputs(plans, stack) -> None:
    """The runbooks' kubectl and aws commands name what the plan declares, read from the outputs."""
    plan = plans[stack]
    out = plan.outputs
    assert out["eksClusterName"] == plan.single(CLUSTER).output("name")
    assert out["eksNodeGroupName"] == plan.single(NODES).output("nodeGroupName")
    assert out["eksNodeLaunchTemplateName"] == plan.single("aws:ec2/launchTemplate:LaunchTemplate").output("name")
    assert out["appIdentityRoleArn"] == plan.one("aws:iam/role:Role", f"hse-{stack}-app-identity").output("arn")
    (deployment,) = plan.find(DEPLOYMENT)
    (hpa,) = plan.find(HPA)
    services = [s for s in plan.find(SERVICE) if s.input("spec")["type"] == "LoadBalancer"]
    assert (out["appNamespace"], out["appServiceAccount"]) == ("hse", "hse-app") == (
        deployment.input("metadata")["namespace"], deployment.input("spec")["template"]["spec"]["serviceAccountName"])
    assert out["appDeploymentNames"] == {"blue": deployment.input("metadata")["name"]} == {"blue": "hse-app-blue"}
    assert out["appHpaNames"] == {"blue": hpa.input("metadata")["name"]} == {"blue": "hse-app-blue"}
    assert hpa.input("metadata")["namespace"] == "hse"
    assert out["appServiceNames"] == {"blue": services[0].input("metadata")["name"]}
    releases = {r.input("chart"): r for r in plan.find("kubernetes:helm.sh/v3:Release")}
    assert out["clusterAddonDeployments"] == {"metricsServer": "kube-system/metrics-server",
                                              "clusterAutoscaler": "kube-system/cluster-autoscaler"}
    assert (releases["metrics-server"].input("values")["fullnameOverride"],
            releases["cluster-autoscaler"].input("values")["fullnameOverride"]) == ("metrics-server",
                                                                                    "cluster-autoscaler")


def test_both_colours_are_named_in_the_outputs(staging) -> None:
    out = staging["eu-west"].outputs
    assert out["appDeploymentNames"] == out["appHpaNames"] == out["appServiceNames"] == {
        "blue": "hse-app-blue", "green": "hse-app-green"}
