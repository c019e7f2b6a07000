"""The workloads of one stack: the region's EKS cluster, the application on it, and the
regional load balancer that becomes the region's endpoint `<stack>.<domain>`, the origin
that the health check probes, the geolocation records name and the CDN reaches.

The application's settings come from the other tiers' outputs (never retyped); its
secrets from Secrets Manager through the External Secrets Operator.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.app_workload import (APP_SERVICE_ACCOUNT, NAMESPACE, SECRETS_SERVICE_ACCOUNT, AppWorkload,
                                     AppWorkloadArgs)
from components.cluster_addons import ClusterAddons, ClusterAddonsArgs
from components.eks_cluster import EksCluster, EksClusterArgs
from components.geo_dns import HEALTH_PATH
from infra.config import EdgeConfig, StackConfig
from infra.domain.contract import RegionExports
from infra.domain.cluster_addons import AUTOSCALER_NAMESPACE, AUTOSCALER_SERVICE_ACCOUNT, autoscaler_policy
from infra.domain.metrics import APP_ERROR_RATE
from infra.domain.naming import default_tags, host, prefix
from components.capacity_reconciler import CapacityReconciler, CapacityReconcilerArgs
from infra.domain.failover_package import sources
from infra.domain.hpa import RECONCILER, RECONCILER_ENTRY, reconciler_policy
from infra.tiers.operations import CODE_ROOT, state_table_name
from infra.tiers.providers import RegionalProviders


def kubeconfig(cluster: aws.eks.Cluster, region: str) -> pulumi.Output[str]:
    """A kubeconfig that authenticates through `aws eks get-token` (the AWS CLI on the deployer)."""

    def render(values: list) -> str:
        name, endpoint, ca = values
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "users": [{"name": name, "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"]}}}],
        })

    return pulumi.Output.all(cluster.name, cluster.endpoint,
                             cluster.certificate_authority.apply(lambda ca: ca.data)).apply(render)


def _secrets_policy(arns: list) -> str:
    *secrets, key = arns
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadTheRegionsSecrets", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": secrets},
        {"Sid": "DecryptWithTheRegionalKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]})


def app_policy(account: str, proxy_arn: str, db_user: str, region: str, table: str, secret_arns: list[str],
               key_arn: str) -> str:
    """The app's own grants: sign in to its region's proxy as its database user (IAM
    authentication: RDS user guide, "Creating and using an IAM policy for IAM database
    access"; through a proxy the resource is `arn:aws:rds-db:<region>:<account>:dbuser:
    <proxy resource id>/<user>`, the `prx-...` id being the last part of the proxy's ARN:
    RDS user guide, "Setting up IAM authentication for RDS Proxy"), read its own secrets
    (the database's and its tenants' Redis credentials: after a rotation it re-reads them
    instead of waiting for the hourly sync and a restart) and decrypt them with the
    regional key through Secrets Manager only, read the failover state it serves at
    /api/health/failover, publish its own metrics. Without a proxy (an rds-postgres
    replica) the app signs in with the password its secrets deliver, and the policy grants
    no sign-in."""
    sign_in = [{"Sid": "SignInToTheProxy", "Effect": "Allow", "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{region}:{account}:dbuser:{proxy_arn.rsplit(':', 1)[-1]}/{db_user}"}] \
        if proxy_arn else []
    return json.dumps({"Version": "2012-10-17", "Statement": [*sign_in,
        {"Sid": "ReadItsSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": sorted(secret_arns)},
        {"Sid": "DecryptItsSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
        {"Sid": "ReadTheFailoverState", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{table}"},
        {"Sid": "PublishTheAppsMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": APP_ERROR_RATE.namespace}}}]})


def build_workloads_tier(cfg: StackConfig, others: Mapping[str, StackConfig], edge: EdgeConfig,
                         providers: RegionalProviders, region, key_arn: Any, zone_id: Any,
                         data: Mapping[str, Any], cache: Mapping[str, Any], routing_version: str,
                         primary: Optional[RegionExports] = None) -> dict[str, Any]:
    """Declare the cluster, the app and the regional endpoint; return the stack outputs."""
    name = prefix(cfg.stack)
    home = pulumi.ResourceOptions(provider=providers.home)
    app, cluster_cfg = cfg.app, cfg.cluster

    platform_networks = sorted({cfg.network.vpc_cidr, *(o.network.vpc_cidr for o in others.values())})
    eks = EksCluster(f"{name}-eks", EksClusterArgs(
        version=cluster_cfg.kubernetes_version, subnet_ids=region.subnet_ids["app"], vpc_id=region.vpc_id,
        api_allowed_cidrs=platform_networks, kms_key_arn=key_arn, instance_type=cluster_cfg.node_instance_type,
        spot=cluster_cfg.node_spot, instances=app.instance_count, max_instances=app.max_instance_count,
        pods_per_node=cluster_cfg.pods_per_node, public_access_cidrs=cluster_cfg.public_access_cidrs,
        node_security_group_ids=[region.security_groups.app_group_id],
        node_tags=default_tags(stack=cfg.stack, region=cfg.aws_region, role=cfg.role, environment=cfg.environment,
                               cost_center=cfg.cost_center)), home)
    # The in-tree load balancer controller places internet-facing NLBs in subnets tagged
    # for load balancers and for this cluster.
    for i, subnet_id in enumerate(region.subnet_ids["public"]):
        aws.ec2.Tag(f"{name}-public-{i}-elb", resource_id=subnet_id, key="kubernetes.io/role/elb", value="1",
                    opts=pulumi.ResourceOptions(provider=providers.home, parent=eks))
        aws.ec2.Tag(f"{name}-public-{i}-cluster", resource_id=subnet_id,
                    key=eks.name.apply(lambda n: f"kubernetes.io/cluster/{n}"), value="shared",
                    opts=pulumi.ResourceOptions(provider=providers.home, parent=eks))

    # The region's certificate covers every name under the domain the region answers for:
    # its endpoint, app., nearest., www. and the tenants' names.
    certificate = aws.acm.Certificate(f"{name}-cert", domain_name=f"*.{edge.domain}", validation_method="DNS",
                                      key_algorithm="EC_prime256v1", opts=home)
    validation_fqdns = []
    if cfg.is_primary:
        # ACM asks for the same validation record for a name in every region of an
        # account: the primary declares it once, the secondaries' certificates use it.
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        record = aws.route53.Record(f"{name}-cert-validation", zone_id=zone_id, name=option.resource_record_name,
                                    type=option.resource_record_type, records=[option.resource_record_value],
                                    ttl=300, allow_overwrite=True, opts=home)
        validation_fqdns = [record.fqdn]
    validated = aws.acm.CertificateValidation(f"{name}-cert-validated", certificate_arn=certificate.arn,
                                              validation_record_fqdns=validation_fqdns or None, opts=home)

    secret_refs: dict[str, tuple[Any, str]] = {"DB_USERNAME": (data["dbSecretArn"], "username"),
                                               "DB_PASSWORD": (data["dbSecretArn"], "password")}
    tenant_arns = pulumi.Output.from_input(cache["cacheTenantSecretArns"])
    secret_arn_env: dict[str, Any] = {"DB_SECRET_ARN": data["dbSecretArn"]}
    for tenant in cfg.cache.tenants:
        variable = f"REDIS_{tenant.upper().replace('-', '_')}"
        arn = tenant_arns.apply(lambda arns, t=tenant: arns[t])
        secret_refs[f"{variable}_USERNAME"] = (arn, "username")
        secret_refs[f"{variable}_PASSWORD"] = (arn, "password")
        secret_arn_env[f"{variable}_SECRET_ARN"] = arn
    secrets_role = eks.service_account_role(
        f"{name}-app-secrets", NAMESPACE, SECRETS_SERVICE_ACCOUNT,
        pulumi.Output.all(data["dbSecretArn"], tenant_arns, key_arn).apply(
            lambda v: _secrets_policy([v[0], *sorted(v[1].values()), v[2]])))

    table = state_table_name(cfg.environment)
    app_role = eks.service_account_role(
        f"{name}-app-identity", NAMESPACE, APP_SERVICE_ACCOUNT,
        pulumi.Output.all(key_arn, data["dbProxyArn"], data["dbSecretArn"], tenant_arns).apply(
            lambda v: app_policy(v[0].split(":")[4], v[1], cfg.database.master_username, cfg.aws_region, table,
                                 [v[2], *v[3].values()], v[0])))
    # A secondary writes to the primary's writer across the peering (or through Aurora's
    # write forwarding to its own cluster when that is on); the primary through its proxy.
    if cfg.is_primary:
        primary_writer: Any = data["dbProxyEndpoint"]
    elif cfg.database.write_forwarding:
        primary_writer = data["dbWriterEndpoint"]
    else:
        primary_writer = primary.db_writer_endpoint if primary is not None else data["dbWriterEndpoint"]

    provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig(eks.cluster, cfg.aws_region),
                            enable_server_side_apply=True, delete_unreachable=False,
                            opts=pulumi.ResourceOptions(depends_on=[eks.node_group]))
    autoscaler_role = eks.service_account_role(
        f"{name}-cluster-autoscaler", AUTOSCALER_NAMESPACE, AUTOSCALER_SERVICE_ACCOUNT,
        eks.name.apply(lambda cluster: json.dumps(autoscaler_policy(cluster))))
    addons = ClusterAddons(f"{name}-addons", ClusterAddonsArgs(
        cluster_name=eks.name, aws_region=cfg.aws_region, kubernetes_version=cluster_cfg.kubernetes_version,
        autoscaler_role_arn=autoscaler_role.arn), pulumi.ResourceOptions(providers=[provider]))
    workload = AppWorkload(f"{name}-app", AppWorkloadArgs(
        stack=cfg.stack, image=app.image, port=app.port, instances=app.instance_count,
        max_instances=app.max_instance_count, cpu_target_percent=app.cpu_target_percent,
        memory_target_percent=app.memory_target_percent, cpu_millicores=app.cpu_millicores,
        memory_mib=app.memory_mib, colours=app.colours, active_colour=app.active_colour,
        certificate_arn=validated.certificate_arn, secrets_role_arn=secrets_role.arn, app_role_arn=app_role.arn,
        aws_region=cfg.aws_region,
        environment={
            "HSE_STACK": cfg.stack, "HSE_REGION": cfg.aws_region, "HSE_ROLE": cfg.role,
            # The AWS SDKs' region: pods cannot reach the instance metadata (hop limit 1).
            "AWS_REGION": cfg.aws_region,
            "HSE_HEALTH_PATH": HEALTH_PATH, "HSE_ROUTING_TABLE_VERSION": routing_version,
            "DB_ENDPOINT": data["dbAppEndpoint"], "DB_WRITER_ENDPOINT": data["dbWriterEndpoint"],
            "DB_READER_ENDPOINT": data["dbReaderEndpoint"], "DB_PROXY_ENDPOINT": data["dbProxyEndpoint"],
            "DB_PORT": pulumi.Output.from_input(data["dbPort"]).apply(str), "DB_NAME": cfg.database.database_name,
            "DB_POOL_SIZE": str(cfg.database.connections_per_instance),
            "DB_PRIMARY_WRITER_ENDPOINT": primary_writer, "DB_USER": cfg.database.master_username,
            "DB_IAM_AUTH": "proxy", "HSE_STATE_TABLE": table,
            "REDIS_CONFIGURATION_ENDPOINT": cache["cacheConfigurationEndpoint"],
            "REDIS_PORT": pulumi.Output.from_input(cache["cachePort"]).apply(str),
            **secret_arn_env,
        },
        secret_refs=secret_refs,
    ), pulumi.ResourceOptions(providers=[provider]))

    # The HPA minimum the failover controller records, applied in the cluster (infra/domain/hpa.py).
    reconciler_role = eks.service_account_role(f"{name}-capacity-reconciler", NAMESPACE, RECONCILER, pulumi.Output.from_input(
        key_arn).apply(lambda k: reconciler_policy(k.split(":")[4], cfg.aws_region, table)))
    CapacityReconciler(f"{name}-capacity", CapacityReconcilerArgs(
        stack=cfg.stack, aws_region=cfg.aws_region, namespace=NAMESPACE, colours=app.colours, state_table=table,
        role_arn=reconciler_role.arn, files=sources(CODE_ROOT, RECONCILER_ENTRY)),
        pulumi.ResourceOptions(providers=[provider], depends_on=[workload]))

    # Per colour its load balancer's name; the live name weighs them (the active colour takes
    # everything); the region's endpoint is the live name.
    live = host(f"live-{cfg.stack}", edge.domain)
    for colour, hostname in workload.hostnames.items():
        colour_host = host(f"{cfg.stack}-{colour}", edge.domain)
        aws.route53.Record(f"{name}-{colour}", zone_id=zone_id, name=colour_host, type="CNAME", ttl=edge.dns_ttl,
                           records=[hostname], opts=home)
        # Each colour is checked on its own, so a switch never weighs traffic onto a broken one.
        check = aws.route53.HealthCheck(
            f"{name}-{colour}-health", type="HTTPS", fqdn=colour_host, port=443, resource_path=HEALTH_PATH,
            enable_sni=True, request_interval=edge.health_check_interval,
            failure_threshold=edge.health_check_failure_threshold, tags={"Name": f"{colour_host}{HEALTH_PATH}"},
            opts=home)
        aws.route53.Record(f"{name}-live-{colour}", zone_id=zone_id, name=live, type="CNAME", ttl=edge.dns_ttl,
                           records=[colour_host], set_identifier=colour, health_check_id=check.id,
                           weighted_routing_policies=[{"weight": 100 if colour == app.active_colour else 0}],
                           opts=home)
    endpoint = aws.route53.Record(f"{name}-endpoint", zone_id=zone_id, name=host(cfg.stack, edge.domain),
                                  type="CNAME", ttl=edge.dns_ttl, records=[live], opts=home)
    low, desired, high = eks.node_counts

    def names(objects: Mapping[str, Any]) -> pulumi.Output[dict[str, str]]:
        """Colour -> the Kubernetes name of that colour's object, as declared."""
        return pulumi.Output.all(**{colour: o.metadata.apply(lambda m: m["name"] if isinstance(m, dict) else m.name)
                                    for colour, o in objects.items()})

    return {
        # The physical names the runbooks and operators name (kubectl, aws eks).
        "eksClusterName": eks.name,
        "eksNodeGroupName": eks.node_group.node_group_name,
        "eksNodeLaunchTemplateName": eks.launch_template.name,
        "appNamespace": workload.service_account.metadata.apply(
            lambda m: m["namespace"] if isinstance(m, dict) else m.namespace),
        "appServiceAccount": workload.service_account.metadata.apply(
            lambda m: m["name"] if isinstance(m, dict) else m.name),
        "appIdentityRoleArn": app_role.arn,
        "appDeploymentNames": names(workload.deployments),
        "appHpaNames": names(workload.autoscalers),
        "appServiceNames": names(workload.services),
        "clusterAddonDeployments": addons.deployments,
        "deployerInsideVpc": cluster_cfg.deployer_inside_vpc,
        "appInstanceCount": app.instance_count,
        "appMaxInstanceCount": app.max_instance_count,
        "appActiveColour": app.active_colour,
        "loadBalancerHostname": workload.hostnames[app.active_colour],
        "regionalEndpointRecord": endpoint.fqdn,
        "nodeCounts": {"min": low, "desired": desired, "max": high},
    }
