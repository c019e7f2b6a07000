"""The platform's own paths: the app's calls to AWS, secret rotation, the failover
controller, admin and deployer access to the private tiers, the promoted region's writes,
and the metrics alarms and dashboards read."""

from __future__ import annotations

import ipaddress
import json

from infra.domain.failover_permissions import CALLS
from infra.domain.metrics import APP_ERROR_RATE, FAILOVER_EVENT
from infra.flows.network import INTERNET, Endpoint
from infra.flows.places import (Context, app_secret_arns, database, database_endpoint, proxy, proxy_endpoint,
                                secret_store_account, service_account_role)
from infra.flows.iam import Policy
from infra.flows.plans import Found
from infra.flows.result import Hop, blocked, missing, passed
from infra.flows.traffic import app_role, database_sign_in, direct_to_replica, read_replica, _env
from infra.flows.wiring import metrics_read

AWS_APIS = Endpoint("AWS public API endpoints", cidrs=(INTERNET,))
_LAMBDA = "aws:lambda/function:Function"
_SAR = "aws:serverlessrepository/cloudFormationStack:CloudFormationStack"


def _key_of_secret(ctx: Context, arn: str) -> str:
    """The KMS key that encrypts a secret (or its replica in the secret ARN's region)."""
    region = arn.split(":")[3] if arn.count(":") > 3 else ""
    for secret in ctx.plans.of_type("aws:secretsmanager/secret:Secret"):
        own = str(secret.get("arn", ""))
        if own.split(":secret:")[-1] != arn.split(":secret:")[-1]:
            continue
        if own == arn:
            return str(secret.get("kmsKeyId", ""))
        for replica in secret.get("replicas") or []:
            if replica.get("region") == region:
                return str(replica.get("kmsKeyId", ""))
    return ""


def _read_secret(ctx: Context, name: str, role: str, arn: str) -> list[Hop]:
    region = arn.split(":")[3]
    hops = [ctx.identities.may(f"{name}: GetSecretValue", role, "secretsmanager:GetSecretValue", arn)]
    key = _key_of_secret(ctx, arn)
    if key:
        hops.append(ctx.identities.may(f"{name}: decrypt", role, "kms:Decrypt", key, {
            "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
            "kms:CallerAccount": arn.split(":")[4]}))
    return hops


def app_to_aws(ctx: Context, stack: str) -> list[Hop]:
    """The app's own calls: its secrets (through External Secrets), the failover state it
    serves at /api/health/failover, and its error-rate metric; over NAT to the public APIs."""
    pods = ctx.pods(stack)
    region = ctx.region(stack)
    role, identity = app_role(ctx, stack, pods)
    hops = [identity, _environment(ctx, stack, pods)]
    hops += ctx.network.connect(pods.endpoint, AWS_APIS, 443, f"{stack} app pods → AWS APIs")
    store = secret_store_account(ctx, stack, pods.namespace)
    store_role = service_account_role(ctx, stack, pods.namespace, store) if store else ""
    if not store_role:
        hops.append(blocked(f"{stack} External Secrets: identity", "the secret store's service account has no IAM role",
                            stack))
    else:
        if pods.cluster is not None:
            hops.append(ctx.identities.service_account_role(f"{stack} External Secrets: identity", pods.cluster,
                                                            pods.namespace, store, store_role))
        for arn in app_secret_arns(ctx, stack):
            hops += _read_secret(ctx, f"{stack} External Secrets → {arn.rsplit(':', 1)[-1]}", store_role, arn)
    table_arn, where = _state_table(ctx, region)
    if table_arn:
        for action in ("dynamodb:GetItem", "dynamodb:Query"):
            hops.append(ctx.identities.may(f"{stack} app → failover state ({where}): {action}", role, action, table_arn))
    else:
        hops.append(missing(f"{stack} app → failover state", where, stack, complete=ctx.plans.complete))
    hops.append(ctx.identities.may(f"{stack} app → {APP_ERROR_RATE.namespace} metric", role,
                                   "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": APP_ERROR_RATE.namespace}))
    return hops


def _environment(ctx: Context, stack: str, pods) -> Hop:
    """Hop: every AWS name in the app's environment is an attribute of a resource the plans
    declare (not retyped, not a stale or invented value)."""
    name = f"{stack} app environment"
    if pods.deployment is None:
        return blocked(name, "no app Deployment", stack)
    known: set[str] = set()

    def collect(value) -> None:
        if isinstance(value, str):
            known.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
    for found in ctx.plans:
        if found.resource.custom and found.resource.type.startswith("aws:"):
            collect(found.resource.outputs)
    aws_values = {k: v for k, v in pods.env.items() if "amazonaws.com" in v}
    stray = sorted(k for k, v in aws_values.items() if v not in known)
    if stray:
        return blocked(name, f"{', '.join(stray)} name(s) nothing the plans declare", pods.deployment.name)
    return passed(name, f"{len(aws_values)} AWS endpoints, each a declared resource's attribute")


def _state_table(ctx: Context, region: str) -> tuple[str, str]:
    """The ARN of the failover state table's replica in `region`, or ('', why not)."""
    for table in ctx.plans.of_type("aws:dynamodb/table:Table"):
        arn = str(table.get("arn", ""))
        if ":table/" not in arn:
            continue
        home = arn.split(":")[3]
        regions = {home} | {str(r.get("regionName")) for r in table.get("replicas") or []}
        if region in regions:
            return arn.replace(f":{home}:", f":{region}:", 1), f"replica in {region}" if region != home else "home"
        return "", f"the state table {table.name} has no replica in {region}"
    return "", "no plan declares the failover state table"


def _function_of(ctx: Context, lambda_arn: str) -> tuple[Found | None, Found | None]:
    """The Lambda function (or the serverless application that makes it) behind an ARN."""
    name = lambda_arn.rsplit(":", 1)[-1]
    function = next((f for f in ctx.plans.of_type(_LAMBDA) if f.get("arn") == lambda_arn or f.get("name") == name), None)
    app = next((f for f in ctx.plans.of_type(_SAR) if (f.get("parameters") or {}).get("functionName") == name), None)
    return function, app


def secret_rotation(ctx: Context, stack: str) -> list[Hop]:
    """Every rotated secret has its own rotation function, bound to that secret, and the
    database's function reaches the database and Secrets Manager."""
    hops: list[Hop] = []
    rotations = ctx.plans.of_type("aws:secretsmanager/secretRotation:SecretRotation", stack)
    if not rotations:
        return [blocked(f"{stack} secret rotation", "no secret is rotated", stack)]
    users: dict[str, list[str]] = {}
    for rotation in rotations:
        users.setdefault(str(rotation.get("rotationLambdaArn")), []).append(str(rotation.get("secretId")))
    for rotation in rotations:
        secret = str(rotation.get("secretId"))
        short = secret.split(":secret:")[-1]
        name = f"{stack} rotation of {short}"
        function_arn = str(rotation.get("rotationLambdaArn"))
        function, app = _function_of(ctx, function_arn)
        if function is None and app is None:
            hops.append(blocked(name, f"{function_arn} is not declared", rotation.name))
            continue
        params = (app.get("parameters") or {}) if app else {}
        env = ((function.get("environment") or {}).get("variables") or {}) if function else {}
        bound = [str(v) for k, v in list(params.items()) + list(env.items()) if k.lower().replace("_", "") == "secretarn"]
        served = users[function_arn]
        if bound and bound[0] != secret:
            hops.append(blocked(name, f"{function_arn} is bound to {bound[0]}", rotation.name))
            continue
        if bound and len(served) > 1:
            hops.append(blocked(name, f"{function_arn} serves {len(served)} secrets but rotates only the one of its "
                                      "SECRET_ARN", rotation.name))
            continue
        if "ElasticacheUserRotation" in str(app.get("applicationId", "") if app else "") and len(served) > 1:
            hops.append(blocked(name, f"{function_arn} serves {len(served)} secrets; AWS's ElastiCache user rotation "
                                      "function rotates only the secret of its SECRET_ARN", rotation.name))
            continue
        if function is not None and bound:
            hops += _rotation_rights(ctx, stack, name, function, secret, str(env.get("USER_NAME", "")))
        hops.append(passed(name, f"by {function_arn.rsplit(':', 1)[-1]}"))
        vpc_subnets = str(params.get("vpcSubnetIds", "")).split(",") if params.get("vpcSubnetIds") else []
        if vpc_subnets:
            source = Endpoint(f"{stack} rotation function", tuple(vpc_subnets),
                              tuple(str(params.get("vpcSecurityGroupIds", "")).split(",")))
            db = database(ctx, stack)
            if db is not None:
                hops += ctx.network.connect(source, database_endpoint(ctx, db, f"{stack} database"), 5432,
                                            f"{stack} rotation → database")
            hops += ctx.network.connect(source, AWS_APIS, 443, f"{stack} rotation → Secrets Manager")
    return hops


def _rotation_rights(ctx: Context, stack: str, name: str, function: Found, secret: str, user_name: str) -> list[Hop]:
    """A bound rotation function: Secrets Manager may invoke it for its secret, and its role
    may make the rotation steps' calls on that secret and on its ElastiCache user."""
    hops: list[Hop] = []
    permit = next((p for p in ctx.plans.of_type("aws:lambda/permission:Permission", stack)
                   if p.get("function") in (function.get("name"), function.get("arn"))
                   and p.get("principal") == "secretsmanager.amazonaws.com"
                   and p.get("sourceArn") in (secret, None)), None)
    hops.append(passed(f"{name}: invoke", permit.name) if permit
                else blocked(f"{name}: invoke", f"no permission lets Secrets Manager invoke {function.name}",
                             function.name))
    role = str(function.get("role", ""))
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                   "secretsmanager:UpdateSecretVersionStage"):
        hops.append(ctx.identities.may(f"{name}: {action}", role, action, secret))
    user = next((u for u in ctx.plans.of_type("aws:elasticache/user:User", stack) if u.get("userName") == user_name), None)
    if user is None:
        hops.append(blocked(f"{name}: user", f"no ElastiCache user {user_name!r} in {stack}", function.name))
    else:
        hops.append(ctx.identities.may(f"{name}: elasticache:ModifyUser", role, "elasticache:ModifyUser",
                                       str(user.get("arn", ""))))
    return hops


def _controller(ctx: Context) -> tuple[Found | None, str]:
    function = next((f for f in ctx.plans.of_type(_LAMBDA) if "failover" in str(f.get("handler", ""))), None)
    return function, str(function.get("role", "")) if function else ""


def failover_controller(ctx: Context, stack: str) -> list[Hop]:
    """The controller hears the stack's health alarm (forwarded to its region) and may make
    every call a failover or failback of this region needs."""
    function, role = _controller(ctx)
    if function is None:
        return [missing("failover controller", "no plan declares the failover controller", stack,
                        complete=ctx.plans.complete)]
    out = ctx.plans.outputs(stack)
    hops = _detection(ctx, stack, function)
    account = ctx.account(stack)
    region = ctx.region(stack)
    needs: list[tuple[str, str, dict]] = []
    global_arn = str(out.get("dbGlobalClusterArn") or "")
    cluster_arn = str(out.get("dbClusterArn") or "")
    if global_arn:
        for action in ("rds:DescribeGlobalClusters", "rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"):
            needs.append((action, global_arn, {}))
        needs.append(("rds:RemoveFromGlobalCluster", cluster_arn, {}))
        needs.append(("rds:FailoverGlobalCluster", cluster_arn, {}))
    nodegroup = next(iter(ctx.plans.of_type("aws:eks/nodeGroup:NodeGroup", stack)), None)
    if nodegroup is not None:
        for action in ("eks:DescribeNodegroup", "eks:UpdateNodegroupConfig"):
            needs.append((action, str(nodegroup.get("arn")), {}))
    zone = str(out.get("hostedZoneId") or "")
    if zone:
        needs.append(("route53:ChangeResourceRecordSets", f"arn:aws:route53:::hostedzone/{zone}", {}))
    table = str(out.get("failoverStateTable") or "")
    home = str(function.get("arn", "")).split(":")[3] if function.get("arn") else region
    if table:
        for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"):
            needs.append((action, f"arn:aws:dynamodb:{home}:{account}:table/{table}", {}))
    topic = str(out.get("alarmTopicArn") or "")
    if topic:
        needs.append(("sns:Publish", topic, {}))
    needs.append(("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": FAILOVER_EVENT.namespace}))
    unknown = sorted({a for a, _, _ in needs} - set(CALLS.values()))
    if unknown:
        hops.append(blocked(f"{stack} controller: calls", f"the controller's code makes no call for {unknown}",
                            function.name))
    for action, resource, context in needs:
        hops.append(ctx.identities.may(f"{stack} controller → {action}", role, action, resource, context))
    return hops


def _detection(ctx: Context, stack: str, function: Found) -> list[Hop]:
    """The stack's health alarm exists, and its state changes reach the function."""
    out = ctx.plans.outputs(stack)
    check = str(out.get("healthCheckId") or "")
    alarm = next((a for a in ctx.plans.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                  if a.get("metricName") == "HealthCheckStatus" and (a.get("dimensions") or {}).get("HealthCheckId") == check),
                 None)
    name = f"{stack} health alarm → controller"
    if alarm is None:
        return [blocked(name, f"no alarm watches health check {check}", stack)]
    alarm_region = str(alarm.get("arn", "")).split(":")[3] if alarm.get("arn") else "us-east-1"
    hops = [passed(f"{name}: alarm", f"{alarm.name} in {alarm_region}")]
    function_arn = str(function.get("arn", ""))
    home = function_arn.split(":")[3] if function_arn else ""
    rules = ctx.plans.of_type("aws:cloudwatch/eventRule:EventRule")
    targets = ctx.plans.of_type("aws:cloudwatch/eventTarget:EventTarget")
    alarm_name = str(alarm.get("name", ""))
    matching = [r for r in rules if _matches_alarm(str(r.get("eventPattern", "")), alarm_name)
                and str(r.get("arn", "")).split(":")[3:4] in ([alarm_region], [])]
    for rule in matching:
        rule_name = rule.get("name")
        for target in (t for t in targets if t.get("rule") == rule_name):
            arn = str(target.get("arn", ""))
            if arn == function_arn:
                return hops + [_invoke(ctx, function, rule, f"{name}: invoke")]
            if arn.endswith(":event-bus/default") and arn.split(":")[3] == home:
                forward = ctx.identities.may(f"{name}: forward to {home}", str(target.get("roleArn", "")),
                                             "events:PutEvents", arn)
                local = [r for r in rules if _matches_alarm(str(r.get("eventPattern", "")), alarm_name)
                         and str(r.get("arn", "")).split(":")[3:4] == [home]]
                for second in local:
                    for last in (t for t in targets if t.get("rule") == second.get("name") and t.get("arn") == function_arn):
                        return hops + [forward, _invoke(ctx, function, second, f"{name}: invoke")]
                return hops + [forward, blocked(f"{name}: invoke", f"no rule in {home} sends the forwarded event to "
                                                                     "the function", function.name)]
    return hops + [blocked(f"{name}: event rule", f"no EventBridge rule in {alarm_region} matches {alarm_name}",
                           alarm.name)]


def _matches_alarm(pattern: str, alarm_name: str) -> bool:
    try:
        data = json.loads(pattern)
    except ValueError:
        return False
    if "aws.cloudwatch" not in (data.get("source") or []):
        return False
    for test in ((data.get("detail") or {}).get("alarmName") or []):
        if isinstance(test, dict) and alarm_name.startswith(str(test.get("prefix", "\0"))):
            return True
        if test == alarm_name:
            return True
    return False


def _invoke(ctx: Context, function: Found, rule: Found, name: str) -> Hop:
    for permission in ctx.plans.of_type("aws:lambda/permission:Permission"):
        if permission.get("function") in (function.get("name"), function.get("arn")) \
                and permission.get("principal") == "events.amazonaws.com" \
                and permission.get("action") == "lambda:InvokeFunction" \
                and permission.get("sourceArn") in (rule.get("arn"), None):
            return passed(name, f"{rule.name} → {function.name} ({permission.name})")
    return blocked(name, f"no permission lets {rule.name} invoke {function.name}", function.name)


def admin_vpn(ctx: Context, stack: str) -> list[Hop]:
    """An administrator on the VPN reaches the stack's Kubernetes API and database."""
    endpoints = ctx.plans.of_type("aws:ec2clientvpn/endpoint:Endpoint")
    if not endpoints:
        return [missing(f"admin VPN → {stack}", "no Client VPN endpoint is declared", stack,
                        complete=ctx.plans.complete)]
    vpn = endpoints[0]
    vpn_id = vpn.resource.id
    associations = [a for a in ctx.plans.of_type("aws:ec2clientvpn/networkAssociation:NetworkAssociation")
                    if a.get("clientVpnEndpointId") == vpn_id]
    source = Endpoint("admin VPN (clients NATed to the endpoint's interfaces)",
                      tuple(a.get("subnetId") for a in associations), tuple(vpn.get("securityGroupIds") or []))
    vpc_cidr = str(ctx.plans.outputs(stack).get("vpcCidr", ""))
    hops = []
    authorized = [r for r in ctx.plans.of_type("aws:ec2clientvpn/authorizationRule:AuthorizationRule")
                  if r.get("clientVpnEndpointId") == vpn_id and _contains(str(r.get("targetNetworkCidr", "")), vpc_cidr)]
    hops.append(passed(f"admin VPN → {stack}: authorization", authorized[0].name) if authorized
                else blocked(f"admin VPN → {stack}: authorization", f"no authorization rule for {vpc_cidr}", vpn.name))
    routed = [r for r in ctx.plans.of_type("aws:ec2clientvpn/route:Route")
              if r.get("clientVpnEndpointId") == vpn_id and _contains(str(r.get("destinationCidrBlock", "")), vpc_cidr)]
    home = vpn.get("vpcId") == ctx.plans.outputs(stack).get("vpcId")
    hops.append(passed(f"admin VPN → {stack}: route", "the associations route the home VPC" if home else routed[0].name)
                if routed or home
                else blocked(f"admin VPN → {stack}: route", f"no Client VPN route to {vpc_cidr}", vpn.name))
    pods = ctx.pods(stack)
    if pods.cluster is not None:
        config = pods.cluster.get("vpcConfig") or {}
        api = Endpoint(f"{stack} Kubernetes API", tuple(config.get("subnetIds") or []),
                       tuple(config.get("securityGroupIds") or []) + ((config.get("clusterSecurityGroupId"),)
                                                                    if config.get("clusterSecurityGroupId") else ()))
        hops += ctx.network.connect(source, api, 443, f"admin VPN → {stack} Kubernetes API")
    db = database(ctx, stack)
    if db is not None:
        hops += ctx.network.connect(source, database_endpoint(ctx, db, f"{stack} database"), 5432,
                                    f"admin VPN → {stack} database")
    return hops


def _contains(outer: str, inner: str) -> bool:
    try:
        return ipaddress.ip_network(inner).subnet_of(ipaddress.ip_network(outer))
    except ValueError:
        return False


def deployer(ctx: Context, stack: str) -> list[Hop]:
    """The machine running `pulumi up` reaches the Kubernetes API while the stack is first
    deployed (the Kubernetes provider is used in the same run that makes the cluster)."""
    pods = ctx.pods(stack)
    name = f"deployer → {stack} Kubernetes API"
    if pods.cluster is None:
        return [blocked(name, "no EKS cluster", stack)]
    config = pods.cluster.get("vpcConfig") or {}
    cidrs = [c for c in config.get("publicAccessCidrs") or []]
    if config.get("endpointPublicAccess"):
        if not cidrs or INTERNET in cidrs:
            return [blocked(name, "the public endpoint admits the whole internet", pods.cluster.name)]
        return [passed(name, f"public endpoint restricted to {', '.join(cidrs)} (the deployer's networks)")]
    inside = ctx.plans.outputs(stack).get("deployerInsideVpc")
    if inside:
        return [passed(name, f"private endpoint; the deployer runs inside {inside}")]
    return [blocked(name, "the endpoint is private only and no deployer network is configured: the first "
                          "`pulumi up` cannot reach the Kubernetes API", pods.cluster.name)]


def promoted_writes(ctx: Context, stack: str) -> list[Hop]:
    """After a failover promotes this secondary, its app writes through its own proxy to its
    own (now writable) cluster, and learns of the promotion from the state table."""
    pods = ctx.pods(stack)
    found = proxy(ctx, stack)
    role, identity = app_role(ctx, stack, pods)
    replica = read_replica(ctx, stack)
    if found is None and replica is not None:
        # A promoted read replica is a stand-alone writable instance at the same address.
        return [identity] + direct_to_replica(ctx, stack, pods, replica, "DB_WRITER_ENDPOINT",
                                              f"{stack} app: local writer")
    if found is None:
        return [identity, blocked(f"{stack} promoted writes", "no proxy", stack)]
    hops = [identity, _env(pods, "DB_PROXY_ENDPOINT", str(found.get("endpoint", "")), f"{stack} app: local writer")]
    hops += ctx.network.connect(pods.endpoint, proxy_endpoint(found, f"{stack} proxy"), 5432, f"{stack} app → proxy")
    hops.append(database_sign_in(ctx, stack, pods, found, role))
    db = database(ctx, stack)
    target = next((t for t in ctx.plans.of_type("aws:rds/proxyTarget:ProxyTarget", stack)
                   if t.get("dbProxyName") == found.get("name")), None)
    ident = (db.get("clusterIdentifier") or db.get("identifier")) if db else ""
    hops.append(passed(f"{stack} proxy → promoted cluster", f"default target group → {ident}")
                if target is not None and ident in (target.get("dbClusterIdentifier"), target.get("dbInstanceIdentifier"))
                else blocked(f"{stack} proxy → promoted cluster", f"the proxy does not target {ident}", found.name))
    for auth in found.get("auths") or []:
        proxy_role = str(found.get("roleArn", ""))
        hops += _read_secret(ctx, f"{stack} proxy → its credentials", proxy_role, str(auth.get("secretArn", "")))
    return hops


def autoscaling(ctx: Context, stack: str) -> list[Hop]:
    """Pods scale on metrics the HPAs can read, and nodes follow: metrics-server runs, each
    HPA targets a Deployment, and the cluster autoscaler (through IRSA) may resize this
    cluster's node group."""
    releases = {str(r.get("chart")): r for r in ctx.plans.of_type("kubernetes:helm.sh/v3:Release", stack)}
    hops = [passed(f"{stack} metrics-server", releases["metrics-server"].name) if "metrics-server" in releases
            else blocked(f"{stack} metrics-server", "no metrics-server: the HPAs read no CPU or memory metric", stack)]
    deployments = {(d.get("metadata") or {}).get("name") for d in ctx.plans.of_type("kubernetes:apps/v1:Deployment", stack)}
    for hpa in ctx.plans.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", stack):
        spec = hpa.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name")
        ok = target in deployments and int(spec.get("minReplicas", 1)) <= int(spec.get("maxReplicas", 0))
        hops.append(passed(f"{stack} HPA {hpa.name}", f"{target}: {spec.get('minReplicas')}..{spec.get('maxReplicas')}")
                    if ok else blocked(f"{stack} HPA {hpa.name}", f"targets {target!r} or its bounds are wrong", hpa.name))
    release = releases.get("cluster-autoscaler")
    name = f"{stack} cluster autoscaler"
    if release is None:
        return hops + [blocked(name, "no cluster autoscaler: nodes never grow", stack)]
    values = release.get("values") or {}
    account = ((values.get("rbac") or {}).get("serviceAccount") or {})
    role = str((account.get("annotations") or {}).get("eks.amazonaws.com/role-arn", ""))
    pods = ctx.pods(stack)
    if pods.cluster is None or pods.node_group is None:
        return hops + [blocked(name, "no cluster or node group", stack)]
    hops.append(ctx.identities.service_account_role(f"{name}: identity", pods.cluster,
                                                    str(release.get("namespace")), str(account.get("name")), role))
    cluster = str(pods.cluster.get("name"))
    if (values.get("autoDiscovery") or {}).get("clusterName") != cluster:
        hops.append(blocked(f"{name}: discovery", f"discovers {values.get('autoDiscovery')}, the cluster is {cluster}",
                            release.name))
    groups = [g.get("name") for r in pods.node_group.get("resources") or [] for g in r.get("autoscalingGroups") or []]
    for group in groups:
        arn = (f"arn:aws:autoscaling:{ctx.region(stack)}:{ctx.account(stack)}:autoScalingGroup:*:"
               f"autoScalingGroupName/{group}")
        hops.append(ctx.identities.may(f"{name} → SetDesiredCapacity {group}", role, "autoscaling:SetDesiredCapacity",
                                       arn, {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}))
    scaling = pods.node_group.get("scalingConfig") or {}
    hops.append(passed(f"{stack} node group room", f"{scaling.get('minSize')}..{scaling.get('maxSize')} nodes")
                if int(scaling.get("maxSize", 0)) > int(scaling.get("minSize", 0))
                else blocked(f"{stack} node group room", "the node group cannot grow (max = min)", pods.node_group.name))
    return hops


def audit_trail(ctx: Context, stack: str) -> list[Hop]:
    """CloudTrail writes the account's trail: it may describe the trail's key, make data
    keys under the trail's encryption context, and put the logs in the audit bucket."""
    hops: list[Hop] = []
    for trail in ctx.plans.of_type("aws:cloudtrail/trail:Trail", stack):
        arn = str(trail.get("arn", ""))
        account = arn.split(":")[4] if arn.count(":") > 4 else ctx.account(stack)
        key_arn = str(trail.get("kmsKeyId", ""))
        key = ctx.identities.key(key_arn)
        name = f"{stack} CloudTrail → key"
        if key is None:
            hops.append(missing(name, f"the trail's key {key_arn} is not declared", trail.name,
                                complete=ctx.plans.complete))
            continue
        policy = Policy(f"key policy of {key.name}", key.get("policy"))
        context = {"aws:SourceAccount": account, "aws:SourceArn": arn}
        hops.append(ctx.identities.service_may(f"{name}: DescribeKey", "cloudtrail.amazonaws.com", "kms:DescribeKey",
                                               key_arn, policy, context, kms_key=True))
        hops.append(ctx.identities.service_may(
            f"{name}: GenerateDataKey", "cloudtrail.amazonaws.com", "kms:GenerateDataKey", key_arn, policy,
            {**context, "kms:EncryptionContext:aws:cloudtrail:arn": arn}, kms_key=True))
        bucket = str(trail.get("s3BucketName", ""))
        target = f"arn:aws:s3:::{bucket}/AWSLogs/{account}/CloudTrail/example.json.gz"
        hops.append(ctx.identities.service_may(
            f"{stack} CloudTrail → bucket {bucket}", "cloudtrail.amazonaws.com", "s3:PutObject", target,
            ctx.identities.resource_policy(target),
            {**context, "s3:x-amz-acl": "bucket-owner-full-control", "aws:SecureTransport": "true"}))
    return hops


def metrics(ctx: Context, stack: str) -> list[Hop]:
    """Every metric the stack's alarms and dashboard read is published as they read it."""
    hops = []
    for metric in metrics_read(ctx.plans, stack):
        problem = ctx.publishers.check(metric)
        name = f"{stack} {metric.reader} reads {metric.label()}"
        if not problem:
            hops.append(passed(name, "published"))
        elif ctx.publishers.missing_subject(problem):
            hops.append(missing(name, problem, metric.reader, complete=ctx.plans.complete))
        else:
            hops.append(blocked(name, problem, metric.reader))
    return hops or [passed(f"{stack} metrics", "the stack reads no metric")]
