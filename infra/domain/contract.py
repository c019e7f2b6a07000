"""The stack outputs one region publishes for the stacks that deploy after it.

Every stack exports these keys (camelCase, as `pulumi stack output` shows them); a
later stack reads an earlier one's through `pulumi.StackReference` and validates them
here before it declares anything, so a missing or inconsistent output stops the
deployment with a clear message instead of a half-built peering.
"""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class RegionExports(BaseModel):
    """What a region's stack exports for the peering mesh and its consumers."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    stack: str = Field(alias="stack")
    role: str = Field(alias="role")
    aws_region: str = Field(alias="awsRegion")
    deploy_order: int = Field(alias="deployOrder")
    account_id: str = Field(alias="accountId", pattern=r"^\d{12}$")
    vpc_id: str = Field(alias="vpcId", pattern=r"^vpc-[0-9a-f]+$")
    vpc_cidr: str = Field(alias="vpcCidr")
    public_subnet_ids: list[str] = Field(alias="publicSubnetIds")
    app_subnet_ids: list[str] = Field(alias="appSubnetIds")
    data_subnet_ids: list[str] = Field(alias="dataSubnetIds")
    app_subnet_cidrs: list[str] = Field(alias="appSubnetCidrs")
    data_subnet_cidrs: list[str] = Field(alias="dataSubnetCidrs")
    private_route_table_ids: list[str] = Field(alias="privateRouteTableIds")
    app_security_group_id: str = Field(alias="appSecurityGroupId")
    database_security_group_id: str = Field(alias="databaseSecurityGroupId")
    redis_security_group_id: str = Field(alias="redisSecurityGroupId")
    proxy_security_group_id: str = Field(alias="proxySecurityGroupId")
    # The data tier.
    kms_key_arn: str = Field(alias="kmsKeyArn", pattern=r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/")
    kms_key_arns: dict[str, str] = Field(default_factory=dict, alias="kmsKeyArns")
    """Region -> key, every region's (the primary only: it creates them all)."""
    db_engine: str = Field(alias="dbEngine")
    db_engine_version: str = Field(alias="dbEngineVersion")
    db_writer_endpoint: str = Field(alias="dbWriterEndpoint")
    db_reader_endpoint: str = Field(alias="dbReaderEndpoint")
    db_proxy_endpoint: str = Field(alias="dbProxyEndpoint")
    db_proxy_read_only_endpoint: str = Field(alias="dbProxyReadOnlyEndpoint")
    db_app_endpoint: str = Field(alias="dbAppEndpoint")
    """Where this region's application connects: the proxy's read/write endpoint on the
    primary, its read-only endpoint on a secondary (read/write works only after promotion)."""
    db_port: int = Field(alias="dbPort")
    db_pool_connections: int = Field(alias="dbPoolConnections")
    db_secret_arn: str = Field(alias="dbSecretArn", pattern=r"^arn:aws:secretsmanager:")
    db_secret_arns: dict[str, str] = Field(default_factory=dict, alias="dbSecretArns")
    """Region -> the credentials' replica there (the primary only)."""
    db_cluster_id: str = Field(alias="dbClusterId")
    db_cluster_arn: str = Field(alias="dbClusterArn", pattern=r"^arn:aws:rds:")
    db_global_cluster_id: str = Field(alias="dbGlobalClusterId")
    db_global_cluster_arn: str = Field(alias="dbGlobalClusterArn")
    backup_vault_arn: str = Field(alias="backupVaultArn", pattern=r"^arn:aws:backup:")
    # The cache tier.
    cache_configuration_endpoint: str = Field(alias="cacheConfigurationEndpoint")
    cache_port: int = Field(alias="cachePort")
    cache_user_group_id: str = Field(alias="cacheUserGroupId")
    cache_tenant_secret_arns: dict[str, str] = Field(alias="cacheTenantSecretArns")
    """Tenant id -> the secret holding that tenant's Redis user name, password and key prefix."""
    cache_global_datastore_id: str = Field(alias="cacheGlobalDatastoreId")
    """The Global Datastore the region's cache belongs to; empty when it has none."""
    cache_replication_group_id: str = Field(alias="cacheReplicationGroupId")
    # Routing.
    routing_table: dict = Field(alias="routingTable")
    """Continent rules, country overrides, default and failover order: `resolver.region_resolver.Resolver` reads it."""
    routing_table_version: str = Field(alias="routingTableVersion", pattern=r"^[0-9a-f]{12}$")

    # The edge.
    domain: str = Field(alias="domain")
    hosted_zone_id: str = Field(alias="hostedZoneId", pattern=r"^Z[0-9A-Z]+$")
    """The Route53 zone of the domain (the primary's, created or referenced)."""
    app_host: str = Field(alias="appHost")
    """`app.<domain>`: geolocation-routed to the serving region."""
    regional_endpoint: str = Field(alias="regionalEndpoint")
    """`<stack>.<domain>`: this region's endpoint, health-checked on /api/health."""
    health_check_id: str = Field(alias="healthCheckId")
    cdn_provider: str = Field(alias="cdnProvider")
    cdn_domain: str = Field(alias="cdnDomain")
    """Where viewers reach the CDN; empty with a custom CDN."""
    cdn_distribution_id: str = Field(alias="cdnDistributionId")
    cdn_rules: dict = Field(alias="cdnRules")
    """The cache rules every provider applies (the input of a custom CDN)."""
    tenant_routes: list[dict] = Field(alias="tenantRoutes")
    """Tenant -> preferred region, residency zone and fallback region."""
    modeled_rto: dict = Field(alias="modeledRto")
    """The modeled recovery time of a region failure and its parts, in seconds."""

    # Workloads and observability.
    eks_cluster_name: str = Field(alias="eksClusterName")
    eks_node_group_name: str = Field(alias="eksNodeGroupName")
    eks_node_launch_template_name: str = Field(alias="eksNodeLaunchTemplateName")
    app_namespace: str = Field(alias="appNamespace")
    app_service_account: str = Field(alias="appServiceAccount")
    """The app's Kubernetes service account in appNamespace (its IRSA role: appIdentityRoleArn)."""
    app_identity_role_arn: str = Field(alias="appIdentityRoleArn", pattern=r"^arn:aws:iam::\d{12}:role/")
    app_deployment_names: dict[str, str] = Field(alias="appDeploymentNames")
    """Colour -> the app's Deployment of that colour (in appNamespace)."""
    app_hpa_names: dict[str, str] = Field(alias="appHpaNames")
    """Colour -> the HorizontalPodAutoscaler of that colour's Deployment."""
    app_service_names: dict[str, str] = Field(alias="appServiceNames")
    """Colour -> the Service of type LoadBalancer (its NLB) of that colour."""
    cluster_addon_deployments: dict[str, str] = Field(alias="clusterAddonDeployments")
    """Add-on (metricsServer, clusterAutoscaler) -> `<namespace>/<Deployment>`."""
    app_instance_count: int = Field(alias="appInstanceCount", ge=1)
    app_max_instance_count: int = Field(alias="appMaxInstanceCount", ge=1)
    app_active_colour: str = Field(alias="appActiveColour")
    load_balancer_hostname: str = Field(alias="loadBalancerHostname")
    alarm_topic_arn: str = Field(alias="alarmTopicArn", pattern=r"^arn:aws:sns:")
    edge_alarm_topic_arn: str = Field(alias="edgeAlarmTopicArn", pattern=r"^arn:aws:sns:us-east-1:")
    """The topic in us-east-1 that the Route53 health-check alarms notify (the primary's)."""
    dashboard_name: str = Field(alias="dashboardName")

    @model_validator(mode="after")
    def _colours(self) -> "RegionExports":
        """Every deployed colour has its Deployment, autoscaler and Service; the active one is deployed."""
        colours = set(self.app_deployment_names)
        if set(self.app_hpa_names) != colours or set(self.app_service_names) != colours:
            raise ValueError(f"appDeploymentNames, appHpaNames and appServiceNames name different colours "
                             f"({sorted(colours)}, {sorted(self.app_hpa_names)}, {sorted(self.app_service_names)})")
        if self.app_active_colour not in colours:
            raise ValueError(f"appActiveColour {self.app_active_colour!r} has no Deployment ({sorted(colours)})")
        return self

    @field_validator("vpc_cidr")
    @classmethod
    def _network(cls, value: str) -> str:
        ipaddress.IPv4Network(value)
        return value

    @classmethod
    def parse(cls, outputs: dict) -> tuple["RegionExports | None", list[str]]:
        """Validate a stack's outputs; return the model or the problems, one line each."""
        try:
            return cls.model_validate(outputs), []
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                key = ".".join(str(p) for p in error["loc"])
                if not key:  # a rule across outputs (_colours)
                    problems.append(f"outputs: {error['msg'].removeprefix('Value error, ')}")
                    continue
                problems.append(f"output {key!r} is missing" if error["type"] == "missing"
                                else f"output {key!r}: {error['msg']}")
            return None, problems
