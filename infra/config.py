"""The validated configuration of one stack.

Each stack file holds flat `hse:<key>` values (Pulumi.yaml documents every key). They
are grouped here into one pydantic model per tier, so a new tier adds a section model
and its keys without touching the others. Validation runs before the program declares
any resource and reports every problem at once, each naming the stack file, the key and
what would be valid. Besides the stack's own values, the whole topology is checked:
one primary, a unique deploy order, peers that deploy earlier and VPC networks that do
not overlap, across all stack files of the project.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import ipaddress
import json
from typing import Any, ClassVar, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra import cache_acl, db_sizing, naming, rto, tenant_routes, topology
from infra.problems import ConfigError, Problem
from infra.stackfiles import PROJECT_FILE, Project, StackFile, StackFileError

NAMESPACE = "hse"
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
# Namespaces a stack file may use besides the project's: the engine's own and the providers'.
OTHER_NAMESPACES = ("pulumi", "aws", "kubernetes", "cloudflare", "fastly", "random")

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


class _Section(BaseModel):
    """A group of flat `hse:` keys; field aliases are the key names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NetworkConfig(_Section):
    """The regional VPC."""

    vpc_cidr: str = Field(alias="vpcCidr",
                          description="IPv4 CIDR of the region's VPC, a private /16 to /20; unique across stacks.")
    availability_zones: list[str] = Field(alias="availabilityZones",
                                          description="The three availability zones of the region the VPC spans.")
    nat_gateway_count: int = Field(3, alias="natGatewayCount",
                                   description="NAT gateways, 1 up to one per AZ (3, one per AZ, for zone independence).")
    flow_log_retention_days: int = Field(365, alias="flowLogRetentionDays",
                                         description="Retention of the VPC flow log group, in days (a CloudWatch Logs period).")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.vpc_cidr)



class AppConfig(_Section):
    """The application tier."""

    instance_count: int = Field(alias="appInstanceCount",
                                description="Application instances the region runs (the spec: 5 in the primary, 3 in each secondary).")
    port: int = Field(8080, alias="appPort",
                      description="TCP port the application listens on behind the regional load balancer.")
    image: str = Field("ghcr.io/hse-digital/app:1.0.0", alias="appImage",
                       description="Container image of the application, with a tag or digest (never :latest).")
    max_instance_count: int = Field(15, alias="appMaxInstanceCount",
                                    description="Most application instances the autoscaler may run, at least "
                                                "appInstanceCount and at most 100.")
    cpu_target_percent: int = Field(70, alias="appCpuTargetPercent",
                                    description="Average CPU use (of requests) the autoscaler keeps, 10 to 95.")
    memory_target_percent: int = Field(80, alias="appMemoryTargetPercent",
                                       description="Average memory use (of requests) the autoscaler keeps, 10 to 95.")
    cpu_millicores: int = Field(500, alias="appCpuMillicores",
                                description="CPU each instance requests in millicores (its limit is twice that), 100 to 4000.")
    memory_mib: int = Field(1024, alias="appMemoryMib",
                            description="Memory each instance requests and is limited to, in MiB, 256 to 16384.")
    colours: list[str] = Field(default_factory=lambda: ["blue"], alias="appColours",
                               description="Colours deployed side by side for blue-green releases: blue, green or both.")
    active_colour: str = Field("blue", alias="appActiveColour",
                               description="The colour the regional load balancer serves; one of appColours.")


class ClusterConfig(_Section):
    """The region's Kubernetes cluster (EKS) and its managed node group."""

    kubernetes_version: str = Field("1.33", alias="kubernetesVersion",
                                    description="EKS Kubernetes version, major.minor: 1.31 to 1.35.")
    public_access_cidrs: list[str] = Field(default_factory=list, alias="eksPublicAccessCidrs",
                                           description="CIDRs allowed to reach the cluster's API over the internet; "
                                                       "empty: private endpoint only (through the admin VPN).")
    node_instance_type: str = Field("m7g.large", alias="nodeInstanceType",
                                    description="EC2 instance type of the worker nodes (Graviton types run the ARM image).")
    node_spot: bool = Field(False, alias="nodeSpot",
                            description="Spot capacity for the worker nodes; allowed only outside production.")
    pods_per_node: int = Field(2, alias="nodePodsPerNode",
                               description="Application instances one node carries, 1 to 20 (sizes the node group).")


class ObservabilityConfig(_Section):
    """Alarm routing, dashboards, admin access, audit and storage tiers."""

    alarm_emails: list[str] = Field(default_factory=list, alias="alarmEmails",
                                    description="E-mail addresses subscribed to the region's alarm topic.")
    latency_alarm_ms: int = Field(1000, alias="latencyAlarmMs",
                                  description="Time to first byte of the regional health check that raises the "
                                              "latency alarm, 100 to 10000 ms (the spec's budget is 10 s).")
    error_rate_alarm_percent: int = Field(5, alias="errorRateAlarmPercent",
                                          description="Share of 5xx answers that raises the error alarm, 1 to 50 %.")
    vpn_server_certificate_arn: str = Field("", alias="vpnServerCertificateArn",
                                            description="ACM ARN of the admin VPN's server certificate (imported); "
                                                        "empty: no VPN. Primary only.")
    vpn_client_root_certificate_arn: str = Field("", alias="vpnClientRootCertificateArn",
                                                 description="ACM ARN of the CA that signs admin client certificates. "
                                                             "Primary only.")
    vpn_client_cidr: str = Field("172.16.0.0/22", alias="vpnClientCidr",
                                 description="Addresses given to VPN clients, a /12 to /22 outside every VPC. Primary only.")
    archive_days: int = Field(90, alias="storageArchiveDays",
                              description="Days after which uploads and logs move to an archive storage class, 30 to 3650.")


class DatabaseConfig(_Section):
    """The data tier: the PostgreSQL cluster of the region, its pool, backups and alarms."""

    engine: Literal["aurora-postgresql", "rds-postgres"] = Field(
        "aurora-postgresql", alias="dbEngine",
        description="aurora-postgresql (a global database) or rds-postgres (Multi-AZ RDS with cross-region read replicas).")
    engine_version: str = Field("16.6", alias="dbEngineVersion", pattern=r"^\d{2}\.\d{1,2}$",
                                description="PostgreSQL version, major.minor, e.g. 16.6; set once, on the primary.")
    instance_class: str = Field("db.r6g.large", alias="dbInstanceClass",
                                description="Instance class of every database instance, e.g. db.r6g.large.")
    reader_count: int = Field(1, alias="dbReaderCount",
                              description="Read replicas besides the writer (primary) or in the region (secondary), 1 to 15.")
    database_name: str = Field("hse", alias="dbName", pattern=r"^[a-z][a-z0-9_]{0,62}$",
                               description="Name of the application database, lowercase letters, digits and underscores.")
    master_username: str = Field("hse_admin", alias="dbMasterUsername", pattern=r"^[a-z][a-z0-9_]{0,15}$",
                                 description="Master user name, 1 to 16 lowercase characters; not a reserved word.")
    backup_retention_days: int = Field(30, alias="dbBackupRetentionDays",
                                       description="Days of point-in-time recovery and of daily backups, 30 to 35 "
                                                   "(1 to 29 only with dbAllowShortRetention).")
    allow_short_retention: bool = Field(False, alias="dbAllowShortRetention",
                                        description="Allow a backup retention below the spec's 30 days (dev and test only).")
    connections_per_instance: int = Field(20, alias="dbConnectionsPerAppInstance",
                                          description="Pooled connections per application instance (the spec: 20).")
    write_forwarding: bool = Field(False, alias="dbWriteForwarding",
                                   description="Aurora global write forwarding on the secondaries (read-your-writes), aurora-postgresql only.")
    replication_lag_alarm_seconds: int = Field(30, alias="dbReplicationLagAlarmSeconds",
                                               description="Replication lag that raises the alarm, below the RPO (default 30 of 60 s).")
    rpo_seconds: int = Field(60, alias="dbRpoSeconds", description="Recovery point objective in seconds (the spec: under 60).")
    slow_query_ms: int = Field(1000, alias="dbSlowQueryMs",
                               description="Statements slower than this are logged (log_min_duration_statement), 0 to 60000.")
    secret_rotation_days: int = Field(30, alias="dbSecretRotationDays",
                                      description="Days between rotations of the database master password and the tenants' Redis passwords, 1 to 365.")
    monitoring_interval: int = Field(60, alias="dbMonitoringInterval",
                                     description="Enhanced monitoring interval in seconds: 1, 5, 10, 15, 30 or 60.")
    storage_gib: int = Field(100, alias="dbStorageGib",
                             description="Allocated storage of rds-postgres instances in GiB, 20 to 65536 (Aurora grows by itself).")


class CacheConfig(_Section):
    """The cache tier: the region's ElastiCache Redis replication group and its tenant users."""

    node_type: str = Field("cache.r7g.large", alias="cacheNodeType",
                           description="ElastiCache node type, e.g. cache.r7g.large (memory-optimised; no burstable types).")
    engine_version: str = Field("7.1", alias="cacheEngineVersion", pattern=r"^\d+\.\d+$",
                                description="Redis OSS engine version, major.minor: 7.0 or 7.1.")
    shards: int = Field(3, alias="cacheShards", description="Shards (node groups) in cluster mode, 1 to 500 (the spec: 3).")
    replicas_per_shard: int = Field(1, alias="cacheReplicasPerShard",
                                    description="Replicas of each shard's primary, 1 to 5 (the spec: 1); automatic failover needs one.")
    maxmemory_policy: str = Field("volatile-lru", alias="cacheMaxmemoryPolicy",
                                  description="What Redis evicts when memory is full, e.g. volatile-lru or allkeys-lru.")
    snapshot_retention_days: int = Field(7, alias="cacheSnapshotRetentionDays",
                                         description="Days daily snapshots are kept (persistence), 1 to 35.")
    tenants: list[str] = Field(default_factory=lambda: ["platform"], alias="cacheTenants",
                               description="Tenant ids, each with its own Redis user limited to keys tenant:<id>:*.")
    global_datastore: bool = Field(False, alias="cacheGlobalDatastore",
                                   description="Replicate the primary's cache to the secondaries (Global Datastore, for session data).")
    memory_alarm_percent: int = Field(80, alias="cacheMemoryAlarmPercent",
                                      description="DatabaseMemoryUsagePercentage that raises the memory alarm, 1 to 100.")
    cpu_alarm_percent: int = Field(80, alias="cacheCpuAlarmPercent",
                                   description="EngineCPUUtilization (and host CPU) that raises the CPU alarm, 1 to 100.")
    evictions_alarm: int = Field(1000, alias="cacheEvictionsAlarm",
                                 description="Evictions per minute that raise the evictions alarm, at least 1.")
    connections_alarm: int = Field(10000, alias="cacheConnectionsAlarm",
                                   description="Current connections per node that raise the connections alarm, at least 1.")
    replication_lag_alarm_seconds: int = Field(30, alias="cacheReplicationLagAlarmSeconds",
                                               description="Global Datastore replication lag that raises the alarm, in seconds.")


class EdgeConfig(_Section):
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


class StackConfig(_Section):
    """Everything one stack deploys from. Sections are one model per tier."""

    SECTIONS: ClassVar[dict[str, type[_Section]]] = {"network": NetworkConfig, "app": AppConfig,
                                                     "cluster": ClusterConfig, "database": DatabaseConfig,
                                                     "cache": CacheConfig, "edge": EdgeConfig,
                                                     "observability": ObservabilityConfig}

    stack: str = Field(exclude=True)
    file: str = Field(exclude=True)
    explicit_keys: frozenset[str] = Field(frozenset(), exclude=True)
    """Keys the stack file sets itself (not from a Pulumi.yaml default)."""
    role: Literal["primary", "secondary"] = Field(
        alias="role", description="primary (read-write database, global resources) or secondary (read replica).")
    aws_region: str = Field(alias="awsRegion", description="The AWS region the stack deploys to, e.g. us-east-1.")
    environment: str = Field("production", alias="environment", pattern=r"^[a-z][a-z0-9-]{1,11}$",
                             description="Environment name used in tags and physical names, 2 to 12 lowercase characters, e.g. production or staging.")
    cost_center: str = Field("hse-platform", alias="costCenter", min_length=1,
                             description="Cost center written to every resource's cost-center tag.")
    deploy_order: int = Field(alias="deployOrder", ge=0,
                              description="Position in the rolling deploy order; the primary is first (0).")
    peers: list[str] = Field(default_factory=list, alias="peers",
                             description="Stacks, deployed earlier, whose VPCs this stack peers with.")
    network: NetworkConfig
    app: AppConfig
    cluster: ClusterConfig
    database: DatabaseConfig
    cache: CacheConfig
    edge: EdgeConfig
    observability: ObservabilityConfig

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @classmethod
    def secret_keys(cls) -> frozenset[str]:
        """Keys that may hold a secret (`pulumi config set --secret`): fields marked `secret`."""
        return frozenset(key for key, (_, _, info) in cls.keys().items()
                         if (info.json_schema_extra or {}).get("secret"))

    @classmethod
    def keys(cls) -> dict[str, tuple[Optional[str], str, Any]]:
        """Every flat key: `hse:<alias>` -> (section or None, field name, field info)."""
        out: dict[str, tuple[Optional[str], str, Any]] = {}
        for name, info in cls.model_fields.items():
            if name in cls.SECTIONS or info.exclude:
                continue
            out[f"{NAMESPACE}:{info.alias}"] = (None, name, info)
        for section, model in cls.SECTIONS.items():
            for name, info in model.model_fields.items():
                out[f"{NAMESPACE}:{info.alias}"] = (section, name, info)
        return out


def _decode(value: str) -> Any:
    text = value.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def _valid_hint(info: Any) -> str:
    return f"valid: {info.description}" if info.description else ""


def parse_stack(stack_file: StackFile) -> tuple[Optional[StackConfig], list[Problem]]:
    """Validate one stack's own values (not yet against the other stacks)."""
    file = stack_file.file_name
    keys = StackConfig.keys()
    top: dict[str, Any] = {"stack": stack_file.stack, "file": file, "explicit_keys": frozenset(stack_file.values)}
    sections: dict[str, dict[str, Any]] = {s: {} for s in StackConfig.SECTIONS}
    problems: list[Problem] = []
    if not STACK_NAME.match(stack_file.stack):
        # The stack name is part of physical names (vaults, cache users, identifiers) that AWS limits.
        problems.append(Problem(file, "", f"stack name {stack_file.stack!r} cannot be part of AWS names; valid: "
                                          "2 to 20 lowercase letters, digits and hyphens, starting with a letter "
                                          "(rename the file, e.g. Pulumi.au.yaml)"))
    for key, raw in sorted(stack_file.config.items()):
        namespace = key.split(":", 1)[0]
        if namespace in OTHER_NAMESPACES:
            continue  # provider and pulumi: keys belong to their own owners
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean {close[0]}?" if close else "valid keys are listed in Pulumi.yaml"
            if namespace != NAMESPACE:
                problems.append(Problem(file, key, f"unknown namespace {namespace!r}, so nothing reads this key; {hint} "
                                                   f"(namespaces: {', '.join((NAMESPACE, *OTHER_NAMESPACES))})"))
            else:
                problems.append(Problem(file, key, f"unknown key; {hint}"))
            continue
        if key in stack_file.secret_keys and key not in StackConfig.secret_keys():
            problems.append(Problem(file, key, "is encrypted (secure:) but is not a secret: it is written in clear "
                                               "into names and tags; set it with `pulumi config set` without --secret"))
            continue
        section, _, info = keys[key]
        target = top if section is None else sections[section]
        target[info.alias] = _decode(raw)
    try:
        config = StackConfig.model_validate({**top, **sections})
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            key, info = _key_of(loc)
            if error["type"] == "missing":
                message = f"is required; {_valid_hint(info)}" if info else "is required"
            else:
                got = error.get("input")
                message = f"{error['msg']} (got {got!r}); {_valid_hint(info)}" if info else error["msg"]
            problems.append(Problem(file, key, message))
        return None, problems
    problems.extend(_check_values(config))
    return (config if not problems else None), problems


def _key_of(loc: list[str]) -> tuple[str, Any]:
    """Map a pydantic error location back to the flat key and its field."""
    keys = StackConfig.keys()
    for part in loc:
        key = f"{NAMESPACE}:{part}"
        if key in keys:
            return key, keys[key][2]
    if loc and loc[0] in StackConfig.SECTIONS and len(loc) == 1:
        return f"{NAMESPACE}:<{loc[0]}>", None
    return f"{NAMESPACE}:{'.'.join(loc)}", None


def _check_values(cfg: StackConfig) -> list[Problem]:
    """Checks that need more than one field or the region table."""
    f = cfg.file
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(f, f"{NAMESPACE}:{key}", message))

    region = topology.REGIONS.get(cfg.aws_region)
    if region is None:
        close = difflib.get_close_matches(cfg.aws_region, topology.REGIONS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        bad("awsRegion", f"{cfg.aws_region!r} is not an AWS region{hint}; "
                         f"valid: {', '.join(sorted(topology.REGIONS))}")

    net = cfg.network
    try:
        network = ipaddress.IPv4Network(net.vpc_cidr, strict=True)
    except ValueError as exc:
        bad("vpcCidr", f"{net.vpc_cidr!r} is not a valid IPv4 network ({exc}); "
                       "expected a private network with host bits zero, /16 to /20, e.g. 10.0.0.0/16")
    else:
        if not (16 <= network.prefixlen <= 20):
            bad("vpcCidr", f"{net.vpc_cidr} is a /{network.prefixlen}; AWS VPCs here must be /16 to /20")
        elif not network.is_private or network.subnet_of(ipaddress.IPv4Network("100.64.0.0/10")):
            bad("vpcCidr", f"{net.vpc_cidr} is not in a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")

    zones = net.availability_zones
    if len(zones) != 3 or len(set(zones)) != 3:
        bad("availabilityZones", f"{zones} must list 3 distinct availability zones")
    if region is not None:
        foreign = [z for z in zones if z not in region.availability_zones]
        if foreign:
            bad("availabilityZones", f"{', '.join(foreign)} not in {region.name}; "
                                     f"valid: {', '.join(region.availability_zones)}")
    if not (1 <= net.nat_gateway_count <= len(zones)):
        bad("natGatewayCount", f"{net.nat_gateway_count} is out of range; expected 1 to {len(zones)} (one per AZ at most)")
    if net.flow_log_retention_days not in LOG_RETENTION_DAYS:
        bad("flowLogRetentionDays", f"{net.flow_log_retention_days} is not a CloudWatch Logs retention period; "
                                    f"valid: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    if cfg.app.instance_count < 1:
        bad("appInstanceCount", f"{cfg.app.instance_count} is below 1; a region runs at least one application instance")
    if not (1024 <= cfg.app.port <= 65535):
        bad("appPort", f"{cfg.app.port} is out of range; expected an unprivileged port, 1024 to 65535")
    problems.extend(_check_database(cfg))
    problems.extend(_check_cache(cfg))
    problems.extend(_check_edge(cfg))
    problems.extend(_check_workloads(cfg))
    return problems


KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")
COLOURS = ("blue", "green")
ACM_ARN = re.compile(r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
IMAGE = re.compile(r"^[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def _valid_network(cidr: str) -> bool:
    try:
        ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        return False
    return True


def _check_workloads(cfg: StackConfig) -> list[Problem]:
    app, cluster, obs = cfg.app, cfg.cluster, cfg.observability
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    if not IMAGE.match(app.image) or app.image.endswith(":latest"):
        bad("appImage", f"{app.image!r} is not a pinned image; valid: <registry>/<repository>:<tag> or @sha256:<digest>, "
                        "e.g. ghcr.io/hse-digital/app:1.4.2 (not :latest)")
    if not (app.instance_count <= app.max_instance_count <= 100):
        bad("appMaxInstanceCount", f"{app.max_instance_count} is out of range; expected appInstanceCount "
                                   f"({app.instance_count}) to 100: the autoscaler's maximum cannot be below its minimum")
    for key, value in (("appCpuTargetPercent", app.cpu_target_percent), ("appMemoryTargetPercent", app.memory_target_percent)):
        if not (10 <= value <= 95):
            bad(key, f"{value} is out of range; expected 10 to 95 percent")
    if not (100 <= app.cpu_millicores <= 4000):
        bad("appCpuMillicores", f"{app.cpu_millicores} is out of range; expected 100 to 4000 millicores")
    if not (256 <= app.memory_mib <= 16384):
        bad("appMemoryMib", f"{app.memory_mib} is out of range; expected 256 to 16384 MiB")
    unknown = [c for c in app.colours if c not in COLOURS]
    if unknown or not app.colours or len(set(app.colours)) != len(app.colours):
        bad("appColours", f"{app.colours} is not a set of colours; valid: one or both of {', '.join(COLOURS)}")
    elif app.active_colour not in app.colours:
        bad("appActiveColour", f"{app.active_colour!r} is not deployed; valid: one of appColours ({', '.join(app.colours)})")
    if cluster.kubernetes_version not in KUBERNETES_VERSIONS:
        bad("kubernetesVersion", f"{cluster.kubernetes_version!r} is not a supported EKS version; "
                                 f"valid: {', '.join(KUBERNETES_VERSIONS)}")
    for cidr in cluster.public_access_cidrs:
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            bad("eksPublicAccessCidrs", f"{cidr!r} is not an IPv4 network; valid: e.g. 203.0.113.0/24")
            continue
        if network.prefixlen < 16:
            bad("eksPublicAccessCidrs", f"{cidr} opens the cluster API to too much of the internet; valid: /16 or narrower")
    if cfg.environment == "production" and cluster.node_spot:
        bad("nodeSpot", "spot capacity can be reclaimed at two minutes' notice; it is allowed only outside "
                        "production (set hse:environment to a dev or test name, or turn nodeSpot off)")
    if not INSTANCE_TYPE.match(cluster.node_instance_type):
        bad("nodeInstanceType", f"{cluster.node_instance_type!r} is not an EC2 instance type; valid: e.g. m7g.large")
    if not (1 <= cluster.pods_per_node <= 20):
        bad("nodePodsPerNode", f"{cluster.pods_per_node} is out of range; expected 1 to 20")
    for address in obs.alarm_emails:
        if not EMAIL.match(address):
            bad("alarmEmails", f"{address!r} is not an e-mail address")
    if not (100 <= obs.latency_alarm_ms <= 10_000):
        bad("latencyAlarmMs", f"{obs.latency_alarm_ms} is out of range; expected 100 to 10000 ms")
    if not (1 <= obs.error_rate_alarm_percent <= 50):
        bad("errorRateAlarmPercent", f"{obs.error_rate_alarm_percent} is out of range; expected 1 to 50 percent")
    for key, arn in (("vpnServerCertificateArn", obs.vpn_server_certificate_arn),
                     ("vpnClientRootCertificateArn", obs.vpn_client_root_certificate_arn)):
        if arn and not ACM_ARN.match(arn):
            bad(key, f"{arn!r} is not an ACM certificate ARN; valid: arn:aws:acm:<region>:<account>:certificate/<id>")
    if bool(obs.vpn_server_certificate_arn) != bool(obs.vpn_client_root_certificate_arn):
        bad("vpnClientRootCertificateArn", "the admin VPN needs both certificates: set vpnServerCertificateArn and "
                                           "vpnClientRootCertificateArn, or neither")
    try:
        client = ipaddress.IPv4Network(obs.vpn_client_cidr, strict=True)
    except ValueError:
        bad("vpnClientCidr", f"{obs.vpn_client_cidr!r} is not an IPv4 network; valid: e.g. 172.16.0.0/22")
    else:
        if not (12 <= client.prefixlen <= 22):
            bad("vpnClientCidr", f"{obs.vpn_client_cidr} is a /{client.prefixlen}; Client VPN takes /12 to /22")
        elif _valid_network(cfg.network.vpc_cidr) and client.overlaps(cfg.network.network):
            bad("vpnClientCidr", f"{obs.vpn_client_cidr} overlaps the VPC {cfg.network.vpc_cidr}; choose addresses "
                                 "outside every VPC")
    if not (30 <= obs.archive_days <= 3650):
        bad("storageArchiveDays", f"{obs.archive_days} is out of range; expected 30 to 3650 days")
    return problems


DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOSTED_ZONE_ID = re.compile(r"^Z[0-9A-Z]{1,31}$")
CLOUDFLARE_ZONE_ID = re.compile(r"^[0-9a-f]{32}$")
# Route53 health checks run every 30 s (standard) or 10 s (fast); nothing else is offered.
HEALTH_CHECK_INTERVALS = (10, 30)
CLOUDFRONT_ONLY_KEYS = ("cdnPriceClass", "cdnWaf", "cdnLogRetentionDays")
# Set once, on the primary: every stack reads the primary's value (`edge_settings`).
PRIMARY_ONLY_KEYS = ("dbEngineVersion", *(info.alias for info in EdgeConfig.model_fields.values()),
                     "vpnServerCertificateArn", "vpnClientRootCertificateArn", "vpnClientCidr")


def _check_edge(cfg: StackConfig) -> list[Problem]:
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
    if edge.cloudflare_zone_id and not CLOUDFLARE_ZONE_ID.match(edge.cloudflare_zone_id):
        bad("cloudflareZoneId", f"{edge.cloudflare_zone_id!r} is not a Cloudflare zone id; valid: 32 lowercase "
                                "hexadecimal characters (the zone's overview page shows it)")
    return problems


def _check_edge_topology(cfg: StackConfig, everyone: dict[str, StackConfig]) -> list[Problem]:
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
    continent = {s: topology.region(c.aws_region).continent for s, c in everyone.items()
                 if c.aws_region in topology.REGIONS}
    seen: set[str] = set()
    for entry in edge.tenant_routing:
        route, problem = tenant_routes.parse(entry)
        if route is None:
            continue  # reported by _check_edge
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
            f"the modeled RTO is {modeled.total_seconds} s, not under the spec's {rto.SPEC_RTO_SECONDS} s; "
            "use the fast profile (10 s) or a lower failure threshold or DNS TTL")
    return problems


def edge_settings(cfg: StackConfig, others: dict[str, StackConfig]) -> EdgeConfig:
    """The edge settings every stack uses: the primary's."""
    if cfg.is_primary:
        return cfg.edge
    return next(o.edge for o in others.values() if o.is_primary)


MAXMEMORY_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random",
                      "allkeys-random", "volatile-ttl", "noeviction")
CACHE_VERSIONS = ("7.0", "7.1")


def _check_cache(cfg: StackConfig) -> list[Problem]:
    cache = cfg.cache
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    family, _, size = cache.node_type.removeprefix("cache.").partition(".")
    if not cache.node_type.startswith("cache.") or not family or not size or family.startswith("t"):
        bad("cacheNodeType", f"{cache.node_type} is not a memory-optimised or general-purpose node type; "
                             "valid: e.g. cache.r7g.large, cache.m7g.large (burstable cache.t* types have no "
                             "Multi-AZ cluster-mode support worth running in production)")
    if cache.engine_version not in CACHE_VERSIONS:
        bad("cacheEngineVersion", f"{cache.engine_version} is not supported here; valid: {', '.join(CACHE_VERSIONS)}")
    if not (1 <= cache.shards <= 500):
        bad("cacheShards", f"{cache.shards} is out of range; expected 1 to 500 shards")
    if not (1 <= cache.replicas_per_shard <= 5):
        bad("cacheReplicasPerShard", f"{cache.replicas_per_shard} is out of range; expected 1 to 5: automatic "
                                     "failover (which replaces the spec's Sentinel) needs a replica in every shard")
    if cache.maxmemory_policy not in MAXMEMORY_POLICIES:
        bad("cacheMaxmemoryPolicy", f"{cache.maxmemory_policy!r} is not a Redis maxmemory policy; "
                                    f"valid: {', '.join(MAXMEMORY_POLICIES)}")
    if not (1 <= cache.snapshot_retention_days <= 35):
        bad("cacheSnapshotRetentionDays", f"{cache.snapshot_retention_days} is out of range; expected 1 to 35 days "
                                          "(0 would turn persistence off)")
    if not cache.tenants:
        bad("cacheTenants", "lists no tenant; valid: at least one tenant id")
    for tenant in cache.tenants:
        if not cache_acl.TENANT_ID.match(tenant):
            bad("cacheTenants", f"{tenant!r} cannot be a key prefix; a tenant id is {cache_acl.TENANT_ID_RULE}")
    if len(set(cache.tenants)) != len(cache.tenants):
        bad("cacheTenants", f"{cache.tenants} lists a tenant twice")
    # The longest id: a tenant's, or the default user's, the group's or the datastore's suffix.
    longest = max([len("sessions"), *(len(t) for t in cache.tenants)])
    if len(cache_user_id(cfg.environment, cfg.stack, "x" * longest)) > 40:
        bad("cacheTenants", f"user ids '<environment>-<stack>-<tenant>' must fit ElastiCache's 40 characters; "
                            f"shorten the longest tenant id ({longest} characters), the environment or the stack name")
    for key, value, low, high in (("cacheMemoryAlarmPercent", cache.memory_alarm_percent, 1, 100),
                                  ("cacheCpuAlarmPercent", cache.cpu_alarm_percent, 1, 100),
                                  ("cacheEvictionsAlarm", cache.evictions_alarm, 1, 10**9),
                                  ("cacheConnectionsAlarm", cache.connections_alarm, 1, 65000),
                                  ("cacheReplicationLagAlarmSeconds", cache.replication_lag_alarm_seconds, 1, 3600)):
        if not (low <= value <= high):
            bad(key, f"{value} is out of range; expected {low} to {high}")
    return problems


def cache_user_id(environment: str, stack: str, tenant: str) -> str:
    """The ElastiCache user id of a tenant in a stack: unique per environment, stack and tenant."""
    return f"{environment}-{stack}-{tenant}"


MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
RESERVED_USERNAMES = ("admin", "postgres", "rdsadmin", "rds_superuser", "public", "user")


def _check_database(cfg: StackConfig) -> list[Problem]:
    db = cfg.database
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    klass = db_sizing.INSTANCE_CLASSES.get(db.instance_class)
    supported = db_sizing.classes_for(db.engine)
    if klass is None or db.engine not in klass.engines:
        why = "is not an instance class this project sizes" if klass is None else f"does not run {db.engine}"
        bad("dbInstanceClass", f"{db.instance_class} {why}; valid for {db.engine}: {', '.join(supported)}")
    if not (1 <= db.reader_count <= 15):
        bad("dbReaderCount", f"{db.reader_count} is out of range; expected 1 to 15 (a reader in another AZ at least)")
    retention = db.backup_retention_days
    if not (1 <= retention <= 35):
        bad("dbBackupRetentionDays", f"{retention} is out of range; AWS keeps automated backups 1 to 35 days")
    elif retention < 30 and not db.allow_short_retention:
        bad("dbBackupRetentionDays", f"{retention} is below the spec's 30-day retention; valid: 30 to 35, "
                                     "or set hse:dbAllowShortRetention true for a dev or test environment")
    if db.master_username in RESERVED_USERNAMES:
        bad("dbMasterUsername", f"{db.master_username!r} is reserved by PostgreSQL or RDS; "
                                f"valid: any other name, not one of {', '.join(RESERVED_USERNAMES)}")
    if db.write_forwarding and db.engine != db_sizing.AURORA:
        bad("dbWriteForwarding", f"write forwarding is an Aurora global database feature; {db.engine} has none "
                                 "(set hse:dbEngine aurora-postgresql or turn it off)")
    if not (1 <= db.rpo_seconds <= 3600):
        bad("dbRpoSeconds", f"{db.rpo_seconds} is out of range; expected 1 to 3600 seconds")
    if not (1 <= db.replication_lag_alarm_seconds < db.rpo_seconds):
        bad("dbReplicationLagAlarmSeconds", f"{db.replication_lag_alarm_seconds} must be at least 1 and below the "
                                            f"RPO of {db.rpo_seconds} s, so the alarm fires before the RPO is lost")
    if not (1 <= db.connections_per_instance <= 1000):
        bad("dbConnectionsPerAppInstance", f"{db.connections_per_instance} is out of range; expected 1 to 1000")
    elif klass is not None and db.engine in klass.engines:
        pool = db_sizing.pool_size(db.connections_per_instance, cfg.app.instance_count)
        try:
            db_sizing.max_connections_percent(pool, db.instance_class, db_sizing.forwarding_reserve(db))
        except ValueError as exc:
            bad("dbInstanceClass", f"{exc}; choose a larger class or fewer connections per instance")
    if not (0 <= db.slow_query_ms <= 60_000):
        bad("dbSlowQueryMs", f"{db.slow_query_ms} is out of range; expected 0 to 60000 milliseconds")
    if not (1 <= db.secret_rotation_days <= 365):
        bad("dbSecretRotationDays", f"{db.secret_rotation_days} is out of range; expected 1 to 365 days")
    if db.monitoring_interval not in MONITORING_INTERVALS:
        bad("dbMonitoringInterval", f"{db.monitoring_interval} is not an enhanced monitoring interval; "
                                    f"valid: {', '.join(map(str, MONITORING_INTERVALS))}")
    if not (20 <= db.storage_gib <= 65536):
        bad("dbStorageGib", f"{db.storage_gib} is out of range; expected 20 to 65536 GiB")
    major = int(db.engine_version.split(".")[0])
    if not (13 <= major <= 17):
        bad("dbEngineVersion", f"{db.engine_version} is not a supported major version; valid: 13 to 17, e.g. 16.6")
    elif db.write_forwarding and major < 14:
        bad("dbEngineVersion", f"{db.engine_version}: Aurora PostgreSQL write forwarding needs version 14 or later")
    return problems


def _check_topology(cfg: StackConfig, others: dict[str, StackConfig]) -> list[Problem]:
    """Checks of this stack against every other stack file of the project."""
    f = cfg.file
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(f, f"{NAMESPACE}:{key}", message))

    everyone = {cfg.stack: cfg, **others}
    primaries = sorted(s.stack for s in everyone.values() if s.is_primary)
    if len(primaries) > 1:
        files = " and ".join(everyone[s].file for s in primaries)
        bad("role", f"{files} both set role primary; exactly one stack may be primary")
    elif not primaries:
        bad("role", "no stack file sets role primary; a secondary replicates from a primary, so exactly one stack must be primary")

    for other in others.values():
        if other.deploy_order == cfg.deploy_order:
            bad("deployOrder", f"{cfg.deploy_order} is also the deploy order of {other.file}; each stack needs its own position")
        if other.network.network.overlaps(cfg.network.network):
            # Blame the stack that deploys later: it is the one joining an existing mesh.
            later, earlier = (cfg, other) if cfg.deploy_order >= other.deploy_order else (other, cfg)
            problems.append(Problem(later.file, f"{NAMESPACE}:vpcCidr",
                                    f"{later.network.vpc_cidr} overlaps {earlier.network.vpc_cidr} of {earlier.file}; "
                                    "peered VPCs need disjoint networks"))
    if len(primaries) == 1:
        primary = everyone[primaries[0]]
        if cfg.is_primary and any(o.deploy_order < cfg.deploy_order for o in others.values()):
            bad("deployOrder", f"{cfg.deploy_order} is not the lowest; the primary deploys first")
        if not cfg.is_primary and primary.stack not in cfg.peers:
            bad("peers", f"{cfg.peers} does not include the primary {primary.stack!r}; "
                         "a secondary must peer with the primary")

    if len(primaries) == 1 and not cfg.is_primary:
        primary = everyone[primaries[0]]
        if cfg.database.engine != primary.database.engine:
            bad("dbEngine", f"{cfg.database.engine} differs from the primary's {primary.database.engine} "
                            f"({primary.file}); every region runs the primary's engine")
        if cfg.cache.global_datastore and not primary.cache.global_datastore:
            bad("cacheGlobalDatastore", f"a secondary can join a Global Datastore only when the primary creates one; "
                                        f"set hse:cacheGlobalDatastore true in {primary.file} as well")
        for key in PRIMARY_ONLY_KEYS:
            if f"{NAMESPACE}:{key}" in cfg.explicit_keys:
                bad(key, f"is set once, on the primary ({primary.file}); a secondary follows the primary's "
                         "value: remove it from this file")
    if len(primaries) == 1:
        # Every stack uses the primary's edge settings, so each plan checks them.
        problems.extend(_check_edge_topology(everyone[primaries[0]], everyone))

    if cfg.is_primary and cfg.observability.vpn_server_certificate_arn:
        client = ipaddress.IPv4Network(cfg.observability.vpn_client_cidr, strict=False)
        for other in others.values():
            if other.network.network.overlaps(client):
                bad("vpnClientCidr", f"{cfg.observability.vpn_client_cidr} overlaps the VPC {other.network.vpc_cidr} of "
                                     f"{other.file}; VPN clients reach every region, so choose addresses outside every VPC")
    if len(set(cfg.peers)) != len(cfg.peers):
        bad("peers", f"{cfg.peers} lists a stack twice")
    for peer in cfg.peers:
        if peer == cfg.stack:
            bad("peers", "a stack cannot peer with itself")
        elif peer not in others:
            bad("peers", f"{peer!r} has no stack file; valid: {', '.join(sorted(others)) or 'none'}")
        elif others[peer].deploy_order >= cfg.deploy_order:
            bad("peers", f"{peer!r} deploys at order {others[peer].deploy_order}, not before this stack "
                         f"({cfg.deploy_order}); a stack may only peer with stacks that deploy earlier")
    return problems


def load_stack(project: Project, stack: str, config: Optional[dict[str, str]] = None) -> StackConfig:
    """Validate `stack` and the topology it belongs to; raise ConfigError listing every problem.

    `config` is the stack's config as the running program received it; by default it is
    read from the stack file. The other stacks are always read from their files.
    """
    return load_topology(project, stack, config)[0]


def load_topology(project: Project, stack: str,
                  config: Optional[dict[str, str]] = None) -> tuple[StackConfig, dict[str, StackConfig]]:
    """`load_stack`, and the validated config of every other stack of the project."""
    try:
        own_file = project.stack_file(stack)
    except StackFileError as exc:
        raise ConfigError([Problem(exc.file, "", exc.reason)]) from None
    if config is not None:
        # Values as the CLI handed them to the program; keys the program was not asked
        # about (unknown ones, to be reported) as the stack file holds them.
        own_file = dataclasses.replace(own_file, config={**own_file.config, **config})
    cfg, problems = parse_stack(own_file)
    others: dict[str, StackConfig] = {}
    for name in project.stack_names():
        if name == stack:
            continue
        try:
            other, other_problems = parse_stack(project.stack_file(name))
        except StackFileError as exc:
            problems.append(Problem(exc.file, "", exc.reason))
            continue
        problems.extend(other_problems)
        if other is not None:
            others[name] = other
    if cfg is not None and not problems:
        problems.extend(_check_topology(cfg, others))
    if problems:
        raise ConfigError(problems)
    assert cfg is not None
    return cfg, others


def deploy_order(project: Project) -> list[str]:
    """Stack names in rolling deploy order (the primary first), read from the stack files."""
    orders: dict[str, int] = {}
    for name in project.stack_names():
        try:
            orders[name] = int(project.stack_file(name).config.get(f"{NAMESPACE}:deployOrder", ""))
        except (ValueError, StackFileError):
            orders[name] = 10**6  # invalid: plan it last, where validation will report it
    return sorted(orders, key=lambda s: (orders[s], s))


def validate_stacks(project: Project, stacks: list[str]) -> tuple[dict[str, StackConfig], list[Problem]]:
    """Every check `pulumi up` and the program would make, for each of `stacks`, without
    running anything: the CLI's project-config rules, then the model and the topology.
    A stack file that cannot be read is one problem; the others are still checked."""
    configs: dict[str, StackConfig] = {}
    problems: list[Problem] = []
    try:
        problems.extend(project.declaration_problems())
    except StackFileError as exc:
        return {}, [Problem(exc.file, "", exc.reason)]
    for stack in stacks:
        try:
            cli = [p for p in project.cli_problems(stack) if p.file != PROJECT_FILE]
        except StackFileError as exc:
            problems.append(Problem(exc.file, "", exc.reason))
            continue
        problems.extend(cli)
        if cli:
            continue
        try:
            configs[stack] = load_stack(project, stack)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return configs, list(dict.fromkeys(problems))
