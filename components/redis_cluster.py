"""The region's Redis: an ElastiCache replication group in cluster mode, with a user per
tenant limited to that tenant's keys, and its alarms.

- 3 shards × 1 replica by default (the spec's 3 masters + 3 replicas), spread over the
  AZs, Multi-AZ with automatic failover: ElastiCache's managed failover promotes a
  shard's replica when its primary fails, which is what the spec's Sentinel would do.
- Encrypted at rest with the region's key and in transit (TLS required); daily snapshots
  kept from config (the spec's persistence); a parameter group with cluster mode on and
  the configured maxmemory policy; the isolated-data subnets and the redis security group.
- Authentication through an RBAC user group: the `default` user every group must contain,
  switched off, and one user per tenant whose access string comes from
  `infra/domain/cache_acl.py`. Each tenant's password is generated and kept in Secrets Manager,
  encrypted with the region's key.
- Optionally a Global Datastore: the primary's group becomes its primary member and a
  secondary's group joins it. A joining group takes its engine, version, shard count,
  node type, parameter group and encryption from the datastore and must not set them
  (the provider would fight the datastore over them on every update).
"""

from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.iam import service_trust_policy
from infra.domain.cache_acl import DEFAULT_USER_RULES, access_string, key_prefix, tenant_rules

REDIS_PORT = 6379
# What a Global Datastore owns: the provider refuses a joining replication group that sets
# any of these (they conflict with global_replication_group_id).
OWNED_BY_GLOBAL_DATASTORE = ("engine", "engine_version", "num_node_groups", "node_type", "parameter_group_name",
                             "at_rest_encryption_enabled", "transit_encryption_enabled", "transit_encryption_mode",
                             "security_group_names", "snapshot_arns", "snapshot_name")
# Automatic failover and Multi-AZ belong to the datastore too, but the provider defaults an
# unset automatic failover to false and would then try to turn it off (which AWS rejects
# on a member): a member states the datastore's values and never updates them.
FOLLOWED_FROM_GLOBAL_DATASTORE = ("automaticFailoverEnabled", "multiAzEnabled")
# A metric-math alarm may combine at most 10 metrics: nodes are watched 10 at a time.
NODES_PER_ALARM = 10


@dataclass(frozen=True)
class CacheSettings:
    """The validated cache config (plain values)."""

    node_type: str
    engine_version: str
    shards: int
    replicas_per_shard: int
    maxmemory_policy: str
    snapshot_retention_days: int
    tenants: Sequence[str]
    memory_alarm_percent: int
    cpu_alarm_percent: int
    evictions_alarm: int
    connections_alarm: int
    replication_lag_alarm_seconds: int
    snapshot_window: str = "02:00-03:00"
    maintenance_window: str = "sun:05:30-sun:06:30"

    @property
    def family(self) -> str:
        return f"redis{self.engine_version.split('.')[0]}"


ROTATION_CODE = Path(__file__).resolve().parents[1] / "functions" / "cache_rotation" / "handler.py"
"""One tenant's rotation function (`functions/cache_rotation/handler.py`), deployed per tenant."""


@dataclass(frozen=True)
class RedisClusterArgs:
    """Inputs of `RedisCluster`."""

    settings: CacheSettings
    user_id_prefix: str
    """Start of every user and user-group id, `<environment>-<stack>-` (ids are account-wide in a region)."""
    secret_name_prefix: str
    """Start of the tenants' secret names, e.g. `hse/production/us-east/cache/`."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated-data subnets."""
    security_group_id: pulumi.Input[str]
    """The redis security group."""
    key_arn: pulumi.Input[str]
    """The region's key."""
    rnd_provider: pulumi.ProviderResource
    """The pulumi-random provider."""
    global_datastore: str = "none"
    """`none`, `primary` (create the Global Datastore) or `secondary` (join it)."""
    global_datastore_id: Optional[pulumi.Input[str]] = None
    """The datastore a secondary joins (from the primary's outputs)."""
    alarm_actions: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    rotation_days: int = 30
    """Days between rotations of the tenants' passwords."""
    rotation_function_name: str = ""
    """Prefix of the tenants' rotation functions (`<prefix>-<tenant>`; Lambda names are per
    region); empty: no rotation."""
    account_id: str = ""
    """The account (the rotation functions' trust is held to it)."""
    region: str = ""
    """Where alarms notify (the observability tier's topic); none yet."""


class RedisCluster(pulumi.ComponentResource):
    """Replication group, parameter and subnet groups, users, user group, secrets and alarms."""

    configuration_endpoint: pulumi.Output[str]
    port: int
    user_group_id: pulumi.Output[str]
    tenant_secret_arns: dict[str, pulumi.Output[str]]
    global_datastore_id: pulumi.Output[str]
    replication_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: RedisClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:cache:RedisCluster", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.port = REDIS_PORT

        users = [aws.elasticache.User(
            f"{name}-user-default",
            user_id=f"{args.user_id_prefix}default",
            user_name="default",
            engine="redis",
            access_string=access_string(DEFAULT_USER_RULES),
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
            opts=child,
        )]
        self.tenant_secret_arns = {}
        rotation = bool(args.rotation_function_name)
        for tenant in s.tenants:
            password = random.RandomPassword(
                f"{name}-{tenant}-password", length=40, special=False,
                opts=pulumi.ResourceOptions(parent=self, provider=args.rnd_provider))
            user_name = f"tenant-{tenant}"
            user = aws.elasticache.User(
                f"{name}-user-{tenant}",
                user_id=f"{args.user_id_prefix}{tenant}",
                user_name=user_name,
                engine="redis",
                access_string=access_string(tenant_rules(tenant)),
                authentication_mode=aws.elasticache.UserAuthenticationModeArgs(
                    type="password", passwords=[password.result]),
                # Rotation sets new passwords in AWS; a deploy must not put the first one back.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["authenticationMode"] if rotation else []),
            )
            users.append(user)
            secret = aws.secretsmanager.Secret(
                f"{name}-{tenant}-secret",
                name_prefix=f"{args.secret_name_prefix}{tenant}-",
                description=f"Redis credentials of tenant {tenant} (keys {key_prefix(tenant)}*)",
                kms_key_id=args.key_arn,
                recovery_window_in_days=7,
                opts=child,
            )
            # `user_arn` ties the secret to its user for the rotation function.
            value = aws.secretsmanager.SecretVersion(
                f"{name}-{tenant}-secret-value",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(pulumi.Output.all(password.result, user.arn).apply(
                    lambda v, u=user_name, t=tenant: json.dumps(
                        {"username": u, "password": v[0], "user_arn": v[1], "keyPrefix": key_prefix(t)}))),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"] if rotation else []),
            )
            if rotation:
                function = self._rotation_function(name, args, tenant, user_name, secret, user)
                aws.secretsmanager.SecretRotation(
                    f"{name}-{tenant}-rotation", secret_id=secret.id, rotation_lambda_arn=function.arn,
                    rotation_rules={"automatically_after_days": args.rotation_days},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[value, user]))
            self.tenant_secret_arns[tenant] = secret.arn

        group = aws.elasticache.UserGroup(
            f"{name}-users",
            user_group_id=f"{args.user_id_prefix}users",
            engine="redis",
            user_ids=[u.user_id for u in users],
            opts=child,
        )

        if args.global_datastore == "secondary":
            # The datastore decides everything in OWNED_BY_GLOBAL_DATASTORE.
            owned: dict = dict(global_replication_group_id=args.global_datastore_id,
                               automatic_failover_enabled=True, multi_az_enabled=True)
        else:
            params = aws.elasticache.ParameterGroup(
                f"{name}-params",
                family=s.family,
                description="HSE: cluster mode, eviction policy",
                parameters=[aws.elasticache.ParameterGroupParameterArgs(name="cluster-enabled", value="yes"),
                            aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy",
                                                                        value=s.maxmemory_policy)],
                opts=child,
            )
            owned = dict(
                engine="redis", engine_version=s.engine_version, node_type=s.node_type,
                num_node_groups=s.shards, parameter_group_name=params.name,
                at_rest_encryption_enabled=True, transit_encryption_enabled=True, transit_encryption_mode="required",
                automatic_failover_enabled=True, multi_az_enabled=True,
            )
        subnets = aws.elasticache.SubnetGroup(f"{name}-subnets", subnet_ids=list(args.subnet_ids),
                                              description="Isolated-data subnets of the region", opts=child)
        replication = aws.elasticache.ReplicationGroup(
            f"{name}",
            description="HSE platform cache (cluster mode, per-tenant users)",
            replicas_per_node_group=s.replicas_per_shard,
            kms_key_id=args.key_arn,
            user_group_ids=[group.user_group_id],
            snapshot_retention_limit=s.snapshot_retention_days,
            subnet_group_name=subnets.name,
            security_group_ids=[args.security_group_id],
            port=REDIS_PORT,
            snapshot_window=s.snapshot_window,
            maintenance_window=s.maintenance_window,
            auto_minor_version_upgrade=True,
            final_snapshot_identifier=f"{args.user_id_prefix}cache-final",
            **owned,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=list(
                FOLLOWED_FROM_GLOBAL_DATASTORE if args.global_datastore == "secondary" else ())),
        )
        self.replication_group_id = replication.id
        if args.global_datastore == "primary":
            datastore = aws.elasticache.GlobalReplicationGroup(
                f"{name}-global",
                global_replication_group_id_suffix=f"{args.user_id_prefix}sessions",
                primary_replication_group_id=replication.id,
                global_replication_group_description="HSE session data, replicated to the secondary regions",
                opts=child,
            )
            self.global_datastore_id = datastore.global_replication_group_id
        elif args.global_datastore == "secondary":
            self.global_datastore_id = pulumi.Output.from_input(args.global_datastore_id)
        else:
            self.global_datastore_id = pulumi.Output.from_input("")

        self.configuration_endpoint = replication.configuration_endpoint_address
        self.user_group_id = group.user_group_id
        self.alarm_names = self._alarms(name, args, replication.id)
        self.register_outputs({
            "configurationEndpoint": self.configuration_endpoint, "port": self.port,
            "userGroupId": self.user_group_id, "tenantSecretArns": self.tenant_secret_arns,
            "globalDatastoreId": self.global_datastore_id, "alarmNames": self.alarm_names,
        })

    def _alarms(self, name: str, args: RedisClusterArgs, group_id: pulumi.Output[str]) -> dict[str, pulumi.Output[str]]:
        """Alarms over every node of the group: ElastiCache publishes node metrics by
        CacheClusterId, `<group>-<shard, 4 digits>-<node, 3 digits>` in cluster mode, so each
        alarm takes the worst node (MAX, or the SUM of evictions) of up to 10 nodes."""
        s = args.settings
        nodes = [f"{shard:04d}-{node:03d}" for shard in range(1, s.shards + 1)
                 for node in range(1, s.replicas_per_shard + 2)]
        batches = [nodes[i:i + NODES_PER_ALARM] for i in range(0, len(nodes), NODES_PER_ALARM)]

        def alarm(suffix: str, description: str, metric: str, threshold: float, statistic: str = "Maximum",
                  combine: str = "MAX", periods: int = 3) -> pulumi.Output[str]:
            names = []
            for b, batch in enumerate(batches):
                queries = [aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=f"n{i}", return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace="AWS/ElastiCache", metric_name=metric, period=60, stat=statistic,
                        dimensions={"CacheClusterId": group_id.apply(lambda g, n=node: f"{g}-{n}")}))
                    for i, node in enumerate(batch)]
                queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="worst", return_data=True, label=f"{metric} ({combine} of {len(batch)} nodes)",
                    expression=f"{combine}([{', '.join(f'n{i}' for i in range(len(batch)))}])"))
                names.append(aws.cloudwatch.MetricAlarm(
                    f"{name}-alarm-{suffix}" + (f"-{b + 1}" if len(batches) > 1 else ""),
                    alarm_description=description,
                    metric_queries=queries,
                    evaluation_periods=periods,
                    datapoints_to_alarm=periods,
                    comparison_operator="GreaterThanThreshold",
                    threshold=threshold,
                    treat_missing_data="missing",
                    alarm_actions=list(args.alarm_actions),
                    ok_actions=list(args.alarm_actions),
                    opts=pulumi.ResourceOptions(parent=self),
                ).name)
            return names[0] if len(names) == 1 else pulumi.Output.all(*names).apply(",".join)

        names = {
            "memory": alarm("memory", f"Memory use above {s.memory_alarm_percent} % on a node",
                            "DatabaseMemoryUsagePercentage", s.memory_alarm_percent),
            "evictions": alarm("evictions", f"More than {s.evictions_alarm} evictions a minute",
                               "Evictions", s.evictions_alarm, statistic="Sum", combine="SUM"),
            "engineCpu": alarm("engine-cpu", f"Redis engine CPU above {s.cpu_alarm_percent} % on a node",
                               "EngineCPUUtilization", s.cpu_alarm_percent),
            "cpu": alarm("cpu", f"Host CPU above {s.cpu_alarm_percent} % on a node", "CPUUtilization",
                         s.cpu_alarm_percent),
            "connections": alarm("connections", f"More than {s.connections_alarm} connections on a node",
                                 "CurrConnections", s.connections_alarm),
        }
        if args.global_datastore == "secondary":
            names["replicationLag"] = alarm(
                "replication-lag", f"Global Datastore lag above {s.replication_lag_alarm_seconds} s",
                "GlobalDatastoreReplicationLag", s.replication_lag_alarm_seconds, periods=1)
        return names

    def _rotation_function(self, name: str, args: "RedisClusterArgs", tenant: str, user_name: str,
                           secret: aws.secretsmanager.Secret, user: aws.elasticache.User) -> aws.lambda_.Function:
        """The tenant's own rotation function: bound to its one secret and user by its
        environment, allowed exactly what the four rotation steps call on them."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-{tenant}-rotation-role", assume_role_policy=service_trust_policy(
            "lambda.amazonaws.com", args.account_id or None), opts=child)
        aws.iam.RolePolicyAttachment(
            f"{name}-{tenant}-rotation-logs", role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", opts=child)
        aws.iam.RolePolicy(f"{name}-{tenant}-rotation-policy", role=role.id, policy=pulumi.Output.all(
            secret.arn, user.arn, args.key_arn).apply(lambda v: rotation_policy(v[0], v[1], v[2], args.region)),
            opts=child)
        function = aws.lambda_.Function(
            f"{name}-{tenant}-rotation-fn", name=f"{args.rotation_function_name}-{tenant}"[:64],
            role=role.arn, runtime="python3.12", handler="handler.lambda_handler", timeout=180,
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(str(ROTATION_CODE))}),
            environment={"variables": {"SECRET_ARN": secret.arn, "USER_NAME": user_name}},
            kms_key_arn=args.key_arn, reserved_concurrent_executions=1,
            tracing_config={"mode": "Active"}, opts=child)
        aws.lambda_.Permission(f"{name}-{tenant}-rotation-invoke", function=function.name,
                               action="lambda:InvokeFunction", principal="secretsmanager.amazonaws.com",
                               source_arn=secret.arn, opts=child)
        return function


def rotation_policy(secret_arn: str, user_arn: str, key_arn: str, region: str) -> str:
    """Exactly what one tenant's rotation calls: its secret's versions, its user, the key
    through Secrets Manager, and the random password generator (no resource-level permission)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "TheTenantsSecret", "Effect": "Allow",
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage"], "Resource": secret_arn},
        {"Sid": "RandomPasswords", "Effect": "Allow", "Action": "secretsmanager:GetRandomPassword", "Resource": "*"},
        {"Sid": "TheTenantsUser", "Effect": "Allow", "Action": ["elasticache:ModifyUser", "elasticache:DescribeUsers"],
         "Resource": user_arn},
        {"Sid": "TheKeyThroughSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": key_arn, "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
    ]})
