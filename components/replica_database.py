"""The PostgreSQL database of one region: the primary's read-write cluster or a
secondary's read-only replica of it, one component for both roles and both engines.

- `aurora-postgresql` (default): an Aurora global database. The primary creates the
  global cluster (the engine version lives there, once) and its writer cluster with a
  writer and readers spread over the AZs; a secondary joins the global cluster with its
  own cluster and readers. Aurora replicates at the storage layer, encrypted, with
  typically sub-second lag.
- `rds-postgres`: a Multi-AZ RDS PostgreSQL primary with cross-region read replicas
  (PostgreSQL streaming replication, encrypted), and the primary's automated backups
  replicated to another region.

Pitfalls handled here, each covered by a test:
- a secondary sets no master user name, password or database name (they come from the
  primary; AWS rejects them on a replica);
- the global and replication identifiers are ignored after creation, so an apply after
  a failover or a promotion never detaches or re-attaches a cluster;
- the engine version is ignored on member clusters: an upgrade goes through the global
  cluster (the primary's `dbEngineVersion`);
- deletion follows the dependencies: instances, then the cluster, then (in the primary
  stack) the global cluster; the secondaries' stacks are destroyed before the primary's.

Everything is encrypted with the region's key (storage, Performance Insights), TLS is
forced (`rds.force_ssl`), IAM database authentication is on, logs go to CloudWatch,
deletion protection and a final snapshot guard the primary's data, and instances live
only in the isolated-data subnets behind the database security group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from infra.domain.db_sizing import AURORA, WRITE_FORWARDING_PERCENT

POSTGRES_PORT = 5432
LOG_EXPORTS = {AURORA: ["postgresql"], "rds-postgres": ["postgresql", "upgrade"]}
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# Properties AWS changes behind the program's back after a failover or promotion.
REPLICATION_IDENTIFIERS = ["globalClusterIdentifier", "replicationSourceIdentifier"]


@dataclass(frozen=True)
class DatabaseSettings:
    """The validated database config (plain values)."""

    engine: str
    engine_version: str
    instance_class: str
    reader_count: int
    database_name: str
    master_username: str
    backup_retention_days: int
    slow_query_ms: int
    write_forwarding: bool
    monitoring_interval: int
    storage_gib: int
    deletion_protection: bool = True
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:04:30-sun:05:30"

    @property
    def major_version(self) -> str:
        return self.engine_version.split(".")[0]

    @property
    def family(self) -> str:
        """The parameter group family, e.g. aurora-postgresql16 or postgres16."""
        return f"{'aurora-postgresql' if self.engine == AURORA else 'postgres'}{self.major_version}"


@dataclass(frozen=True)
class ReplicaDatabaseArgs:
    """Inputs of `ReplicaDatabase`."""

    settings: DatabaseSettings
    """Engine, version, sizes, retention and logging."""
    primary: bool
    """The read-write primary (True) or a read-only secondary."""
    physical_prefix: str
    """Start of the names AWS sees, e.g. `hse-production-us-east`."""
    zones: Sequence[str]
    """The region's availability zones; instances spread over them."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated-data subnets."""
    security_group_id: pulumi.Input[str]
    """The database security group."""
    key_arn: pulumi.Input[str]
    """The region's key: storage and Performance Insights are encrypted with it."""
    master_password: Optional[pulumi.Input[str]] = None
    """The generated master password (primary only)."""
    global_cluster_id: Optional[pulumi.Input[str]] = None
    """The global cluster a secondary joins (aurora-postgresql, from the primary's outputs)."""
    global_cluster_arn: Optional[pulumi.Input[str]] = None
    """Its ARN, likewise."""
    source_region: Optional[str] = None
    """The primary's region: an encrypted secondary names it (AWS's procedure for adding a region)."""
    source_arn: Optional[pulumi.Input[str]] = None
    """The instance a secondary replicates (rds-postgres, from the primary's outputs)."""
    backup_replica_region: Optional[str] = None
    """rds-postgres primary: the region its automated backups are replicated to."""
    backup_replica_provider: Optional[aws.Provider] = None
    """The provider of that region."""
    backup_replica_key_arn: Optional[pulumi.Input[str]] = None
    """That region's key."""


class ReplicaDatabase(pulumi.ComponentResource):
    """A region's PostgreSQL: Aurora global member or RDS primary / cross-region replica."""

    writer_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: int
    cluster_id: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    global_cluster_id: pulumi.Output[str]
    global_cluster_arn: pulumi.Output[str]
    proxy_target: dict[str, pulumi.Output[str]]
    writer_instances: list[pulumi.CustomResource]
    """The instance that takes writes (primary) or the region's first: what must be up before
    anything connects (the rotation's first run)."""

    def __init__(self, name: str, args: ReplicaDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:data:ReplicaDatabase", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.port = POSTGRES_PORT
        self._args = args

        subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=list(args.subnet_ids),
                                      description="Isolated-data subnets of the region", opts=child)
        self._subnet_group = subnets
        self._monitoring_role = self._monitoring(name)
        if s.engine == AURORA:
            self._aurora(name)
        else:
            self._rds(name)
        self.register_outputs({
            "writerEndpoint": self.writer_endpoint, "readerEndpoint": self.reader_endpoint, "port": self.port,
            "clusterId": self.cluster_id, "clusterArn": self.cluster_arn,
            "globalClusterId": self.global_cluster_id, "globalClusterArn": self.global_cluster_arn,
        })

    # -- shared pieces ----------------------------------------------------------------------
    def _parameters(self, args_class: type, extra: dict[str, str]) -> list:
        s = self._args.settings
        base = {
            "rds.force_ssl": "1",
            "log_connections": "1",
            "log_disconnections": "1",
            "log_min_duration_statement": str(s.slow_query_ms),
            "log_statement": "ddl",
            **extra,
        }
        # Logging and TLS are dynamic; write forwarding's settings wait for the next reboot.
        return [args_class(name=k, value=v, apply_method="pending-reboot" if k.startswith("apg_") else "immediate")
                for k, v in sorted(base.items())]

    def _monitoring(self, name: str) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{name}-monitoring",
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._monitoring_policy = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring", role=role.name, policy_arn=MONITORING_POLICY, opts=pulumi.ResourceOptions(parent=self))
        return role

    def _instance_common(self) -> dict:
        s, args = self._args.settings, self._args
        return dict(
            # RDS upgrades minor versions in the maintenance window; an Aurora global database
            # is upgraded deliberately, through its global cluster's pinned version, since an
            # automatic upgrade would turn the pinned version into a downgrade on the next apply.
            auto_minor_version_upgrade=s.engine != AURORA,
            instance_class=s.instance_class,
            db_subnet_group_name=self._subnet_group.name,
            publicly_accessible=False,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.key_arn,
            performance_insights_retention_period=7,
            monitoring_interval=s.monitoring_interval,
            monitoring_role_arn=self._monitoring_role.arn,
            copy_tags_to_snapshot=True,
        )

    # -- Aurora global database --------------------------------------------------------------
    def _aurora(self, name: str) -> None:
        s, args = self._args.settings, self._args
        child = pulumi.ResourceOptions(parent=self)
        extra = {}
        if args.primary and s.write_forwarding:
            # The writer's share of connections that forwarded writes may take (the proxy gets the rest).
            extra["apg_write_forward.max_forwarding_connections_percent"] = str(WRITE_FORWARDING_PERCENT)
        if not args.primary and s.write_forwarding:
            # Read-your-writes within a session (documented for the apps in docs/database.md).
            extra["apg_write_forward.consistency_mode"] = "session"
        params = aws.rds.ClusterParameterGroup(
            f"{name}-params", family=s.family, description="HSE: TLS only, connection and slow-statement logging",
            parameters=self._parameters(aws.rds.ClusterParameterGroupParameterArgs, extra), opts=child)

        if args.primary:
            glob = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=f"{args.physical_prefix}-global",
                engine=AURORA,
                engine_version=s.engine_version,
                storage_encrypted=True,
                deletion_protection=s.deletion_protection,
                opts=child,
            )
            global_id, engine_version = glob.id, glob.engine_version
            self.global_cluster_arn = glob.arn
            credentials = dict(master_username=s.master_username, master_password=args.master_password,
                               database_name=s.database_name)
            final = dict(skip_final_snapshot=False, final_snapshot_identifier=f"{args.physical_prefix}-final")
            depends: list[pulumi.Resource] = [glob]
        else:
            global_id = pulumi.Output.from_input(args.global_cluster_id)
            engine_version = pulumi.Output.from_input(s.engine_version)
            self.global_cluster_arn = pulumi.Output.from_input(args.global_cluster_arn)
            # A secondary holds a copy of the primary's data: no snapshot of its own on delete.
            credentials, final, depends = {}, dict(skip_final_snapshot=True), []

        cluster = aws.rds.Cluster(
            f"{name}-cluster",
            engine=AURORA,
            engine_version=engine_version,
            global_cluster_identifier=global_id,
            db_subnet_group_name=self._subnet_group.name,
            db_cluster_parameter_group_name=params.name,
            vpc_security_group_ids=[args.security_group_id],
            port=POSTGRES_PORT,
            storage_encrypted=True,
            kms_key_id=args.key_arn,
            backup_retention_period=s.backup_retention_days,
            preferred_backup_window=s.backup_window,
            preferred_maintenance_window=s.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=s.deletion_protection,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS[AURORA],
            enable_global_write_forwarding=(s.write_forwarding if not args.primary else None),
            source_region=None if args.primary else args.source_region,
            **credentials,
            **final,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=depends,
                # After a failover AWS moves these; an upgrade goes through the global cluster;
                # a rotated password must not be written back.
                ignore_changes=[*REPLICATION_IDENTIFIERS, "engineVersion", "masterPassword"]),
        )
        instances = []
        count = s.reader_count + (1 if args.primary else 0)
        for i in range(count):
            zone = args.zones[i % len(args.zones)]
            instances.append(aws.rds.ClusterInstance(
                f"{name}-{i}",
                cluster_identifier=cluster.id,
                engine=AURORA,
                availability_zone=zone,
                promotion_tier=i,
                **self._instance_common(),
                # Enhanced monitoring fails to start until the role may publish.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["engineVersion"],
                                            depends_on=[self._monitoring_policy]),
            ))
        self.writer_endpoint = cluster.endpoint
        self.reader_endpoint = cluster.reader_endpoint
        self.cluster_id = cluster.id
        self.cluster_arn = cluster.arn
        self.global_cluster_id = global_id
        self.proxy_target = {"db_cluster_identifier": cluster.id}
        self.writer_instances = instances[:1]

    # -- RDS PostgreSQL with cross-region read replicas --------------------------------------
    def _rds(self, name: str) -> None:
        s, args = self._args.settings, self._args
        child = pulumi.ResourceOptions(parent=self)
        params = aws.rds.ParameterGroup(
            f"{name}-params", family=s.family, description="HSE: TLS only, connection and slow-statement logging",
            parameters=self._parameters(aws.rds.ParameterGroupParameterArgs, {}), opts=child)
        common = dict(
            engine="postgres",
            storage_type="gp3",
            allocated_storage=s.storage_gib,
            max_allocated_storage=s.storage_gib * 4,
            storage_encrypted=True,
            kms_key_id=args.key_arn,
            vpc_security_group_ids=[args.security_group_id],
            parameter_group_name=params.name,
            backup_retention_period=s.backup_retention_days,
            backup_window=s.backup_window,
            maintenance_window=s.maintenance_window,
            deletion_protection=s.deletion_protection,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS["rds-postgres"],
            port=POSTGRES_PORT,
            multi_az=True,
            **self._instance_common(),
        )
        if args.primary:
            instance = aws.rds.Instance(
                f"{name}-primary",
                # The major version only: minor upgrades arrive automatically, and a pinned
                # minor version would then read as a downgrade.
                engine_version=s.major_version,
                username=s.master_username,
                password=args.master_password,
                db_name=s.database_name,
                skip_final_snapshot=False,
                final_snapshot_identifier=f"{args.physical_prefix}-final",
                **common,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["replicateSourceDb", "password"],
                                            depends_on=[self._monitoring_policy]),
            )
            if args.backup_replica_provider is not None:
                # Point-in-time recovery in a second region: the automated backups, copied there.
                aws.rds.InstanceAutomatedBackupsReplication(
                    f"{name}-backups-{args.backup_replica_region}",
                    source_db_instance_arn=instance.arn,
                    kms_key_id=args.backup_replica_key_arn,
                    retention_period=s.backup_retention_days,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.backup_replica_provider),
                )
            readers: list[aws.rds.Instance] = []
        else:
            instance = aws.rds.Instance(
                f"{name}-replica",
                replicate_source_db=args.source_arn,
                skip_final_snapshot=True,
                **common,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["replicateSourceDb", "engineVersion"],
                                            depends_on=[self._monitoring_policy]),
            )
            readers = [instance]
        self.writer_endpoint = instance.address
        self.reader_endpoint = readers[0].address if readers else instance.address
        # An RDS instance's `id` is its resource id (db-…); APIs and metrics want the identifier.
        self.cluster_id = instance.identifier
        self.cluster_arn = instance.arn
        self.global_cluster_id = pulumi.Output.from_input("")
        self.global_cluster_arn = pulumi.Output.from_input("")
        # RDS Proxy can front only the writer of an RDS instance, never a read replica.
        self.proxy_target = {"db_instance_identifier": instance.identifier} if args.primary else {}
        self.writer_instances = [instance]
