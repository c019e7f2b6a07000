"""Database rules: the RDS/Aurora clusters, their instances, parameters and proxy.

Covers checkov's RDS checks, Pulumi's compliance policies for RDS clusters (Multi-AZ,
backups), the Aurora global database pitfalls, and the spec's numbers (30-day
retention, a pool of 20 connections per application instance, a lag alarm below the RPO).
"""

from __future__ import annotations

from infra.domain import db_sizing
from policies import types as t
from policies.rule import (MANDATORY, as_list, global_secondary_ids, of_type, resource_policy, setting, stack_policy,
                           stack_value)

DOMAIN = "database"
DB_SERVERS = (t.RDS_CLUSTER, t.RDS_INSTANCE)
DB_INSTANCES = (t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE)
MIN_RETENTION_DAYS = 30
CONNECTIONS_PER_INSTANCE = 20
RPO_SECONDS = 60
LAG_METRICS = {"AuroraGlobalDBReplicationLag": 0.001, "ReplicaLag": 1.0}
"""Replication-lag metrics and the factor that turns their unit into seconds."""


def rds_storage_encrypted(args, report_violation):
    if args.props.get("storageEncrypted") is not True:
        report_violation("RDS cluster must have storage encryption enabled.")


def rds_kms_cmk(args, report_violation):
    if not args.props.get("kmsKeyId"):
        report_violation("RDS cluster must be encrypted with a customer-managed KMS key (kmsKeyId).")


def rds_global_cluster_encrypted(args, report_violation):
    if args.props.get("storageEncrypted") is not True:
        report_violation("RDS global cluster must have storage encryption enabled.")


def rds_backup_retention(args, report_violation):
    minimum = setting(args, "minimumDays", MIN_RETENTION_DAYS)
    days = args.props.get("backupRetentionPeriod") or 0
    if args.props.get("replicateSourceDb"):
        return  # a read replica keeps no backups of its own; its source does
    if days < minimum:
        report_violation(f"Database backup retention must be at least {minimum} days (found {days}).")


def rds_deletion_protection(args, report_violation):
    if args.props.get("deletionProtection") is not True:
        report_violation("Database must have deletion protection enabled.")


def rds_iam_authentication(args, report_violation):
    if args.props.get("iamDatabaseAuthenticationEnabled") is not True:
        report_violation("Database must have IAM database authentication enabled.")


def rds_log_exports(args, report_violation):
    if "postgresql" not in as_list(args.props.get("enabledCloudwatchLogsExports")):
        report_violation("Database must export its postgresql log to CloudWatch Logs.")


def rds_performance_insights(args, report_violation):
    if args.props.get("performanceInsightsEnabled") is not True:
        report_violation("Database instance must have Performance Insights enabled.")


def rds_performance_insights_kms(args, report_violation):
    if args.props.get("performanceInsightsEnabled") and not args.props.get("performanceInsightsKmsKeyId"):
        report_violation("Performance Insights must be encrypted with a customer-managed KMS key.")


def rds_not_public(args, report_violation):
    if args.props.get("publiclyAccessible") is not False:
        report_violation("Database instance must not be publicly accessible.")


def rds_copy_tags_to_snapshot(args, report_violation):
    if args.props.get("copyTagsToSnapshot") is not True:
        report_violation("Database must copy its tags to snapshots.")


def _parameters(props) -> dict:
    return {p.get("name"): str(p.get("value")) for p in as_list(props.get("parameters"))}


def postgres_query_logging(args, report_violation):
    params = _parameters(args.props)
    if "postgres" not in str(args.props.get("family", "")):
        return
    if params.get("log_statement", "none") == "none" or "log_min_duration_statement" not in params:
        report_violation("PostgreSQL parameter group must set log_statement and log_min_duration_statement.")


def postgres_force_ssl(args, report_violation):
    if "postgres" in str(args.props.get("family", "")) and _parameters(args.props).get("rds.force_ssl") != "1":
        report_violation("PostgreSQL parameter group must set rds.force_ssl to 1.")


def db_proxy_tls(args, report_violation):
    if args.props.get("requireTls") is not True:
        report_violation("RDS Proxy must require TLS.")


def aurora_global_ignore_changes(args, report_violation):
    if not args.props.get("globalClusterIdentifier"):
        return
    missing = [k for k in ("globalClusterIdentifier", "replicationSourceIdentifier") if k not in args.opts.ignore_changes]
    if missing:
        report_violation(f"Aurora global member cluster must ignore changes to {' and '.join(missing)}.")


def aurora_global_engine_version(args, report_violation):
    props = args.props
    if props.get("globalClusterIdentifier") and props.get("engineVersion") and "engineVersion" not in args.opts.ignore_changes:
        report_violation("Aurora global member cluster must leave engineVersion to the global cluster (unset or ignored).")


def aurora_global_version_on_global(args, report_violation):
    if not args.props.get("engineVersion"):
        report_violation("RDS global cluster must set engineVersion.")


def aurora_global_no_managed_password(args, report_violation):
    if args.props.get("globalClusterIdentifier") and args.props.get("manageMasterUserPassword"):
        report_violation("Aurora global member cluster must not use an RDS-managed master password.")


def aurora_secondary_no_credentials(args, report_violation):
    """Secondaries (clusters joining a global cluster declared in another stack) inherit
    the primary's credentials and database; AWS rejects them on a secondary."""
    secondaries = global_secondary_ids(args)
    for cluster in of_type(args, t.RDS_CLUSTER):
        if cluster.urn not in secondaries:
            continue
        set_keys = [k for k in ("masterUsername", "masterPassword", "databaseName", "manageMasterUserPassword")
                    if cluster.props.get(k)]
        if set_keys:
            report_violation(f"Aurora global secondary cluster must not set {', '.join(set_keys)}.", cluster.urn)


def rds_cluster_multi_az(args, report_violation):
    """Every cluster's instances span at least two availability zones."""
    zones: dict[str, set] = {}
    for instance in of_type(args, t.RDS_CLUSTER_INSTANCE):
        zones.setdefault(instance.props.get("clusterIdentifier"), set()).add(instance.props.get("availabilityZone"))
    for cluster in of_type(args, t.RDS_CLUSTER):
        found = len(zones.get(cluster.props.get("clusterIdentifier"), set()) - {None})
        if found < 2:
            report_violation(f"RDS cluster must have instances in at least 2 availability zones (found {found}).",
                             cluster.urn)
    for instance in of_type(args, t.RDS_INSTANCE):
        if instance.props.get("multiAz") is not True:
            report_violation("RDS instance must be Multi-AZ.", instance.urn)


def rds_minor_upgrades(args, report_violation):
    """Instances take minor upgrades automatically, except members of an Aurora global
    database, whose version moves only through the global cluster."""
    global_ids = {c.props.get("clusterIdentifier") for c in of_type(args, t.RDS_CLUSTER)
                  if c.props.get("globalClusterIdentifier")}
    for instance in of_type(args, *DB_INSTANCES):
        if instance.props.get("clusterIdentifier") in global_ids:
            continue
        if instance.props.get("autoMinorVersionUpgrade") is not True:
            report_violation("Database instance must take minor version upgrades automatically.", instance.urn)


def db_proxy_pool_size(args, report_violation):
    """The proxy pool holds 20 connections per application instance, and the proxy's share
    of the instance class's max_connections is large enough for it."""
    per_instance = setting(args, "connectionsPerInstance", CONNECTIONS_PER_INSTANCE)
    count = stack_value(args, "appInstanceCount")
    groups = of_type(args, t.RDS_PROXY_TARGET_GROUP)
    if not groups:
        return
    if count is None:
        args.not_applicable("appInstanceCount is neither a stack output nor in the stack config")
    wanted = per_instance * int(count)
    pool = stack_value(args, "dbPoolConnections")
    if pool != wanted:
        report_violation(f"Database pool must be {per_instance} connections per application instance, "
                         f"{wanted} for {count} instances (found {pool}).")
    classes = {i.props.get("instanceClass") for i in of_type(args, *DB_INSTANCES)}
    for group in groups:
        percent = (group.props.get("connectionPoolConfig") or {}).get("maxConnectionsPercent") or 100
        for name in classes:
            known = db_sizing.INSTANCE_CLASSES.get(name)
            if known is not None and known.max_connections * percent // 100 < wanted:
                report_violation(f"RDS Proxy must allow at least {wanted} connections on {name} "
                                 f"({percent} % of {known.max_connections} is {known.max_connections * percent // 100}).",
                                 group.urn)


def lag_alarm_below_rpo(args, report_violation):
    factor = LAG_METRICS.get(args.props.get("metricName"))
    if factor is None:
        return
    rpo = setting(args, "rpoSeconds", RPO_SECONDS)
    seconds = (args.props.get("threshold") or 0) * factor
    if seconds >= rpo:
        report_violation(f"Replication-lag alarm must fire below the RPO of {rpo} s (threshold {seconds:g} s).")


POLICIES = [
    resource_policy("rds-cluster-storage-encrypted", "RDS clusters encrypt their storage at rest.",
                    rds_storage_encrypted, level=MANDATORY, types=[t.RDS_CLUSTER], domain=DOMAIN, checkov=["CKV_AWS_96"]),
    resource_policy("rds-cluster-kms-cmk", "RDS clusters are encrypted with a customer-managed KMS key.",
                    rds_kms_cmk, level=MANDATORY, types=[t.RDS_CLUSTER], domain=DOMAIN, checkov=["CKV_AWS_327"]),
    resource_policy("rds-global-cluster-encrypted", "RDS global clusters encrypt their storage at rest.",
                    rds_global_cluster_encrypted, level=MANDATORY, types=[t.RDS_GLOBAL_CLUSTER], domain=DOMAIN,
                    checkov=["CKV_AWS_140"]),
    resource_policy("rds-backup-retention", "Databases keep backups for at least the spec's 30 days.",
                    rds_backup_retention, level=MANDATORY, types=DB_SERVERS, domain=DOMAIN, checkov=["CKV_AWS_133"],
                    config={"minimumDays": {"type": "integer", "default": MIN_RETENTION_DAYS}}),
    resource_policy("rds-deletion-protection", "Databases have deletion protection enabled.",
                    rds_deletion_protection, level=MANDATORY, types=DB_SERVERS, domain=DOMAIN, checkov=["CKV_AWS_139"]),
    resource_policy("rds-iam-authentication", "Databases accept IAM database authentication.",
                    rds_iam_authentication, level=MANDATORY, types=DB_SERVERS, domain=DOMAIN, checkov=["CKV_AWS_162"]),
    resource_policy("rds-log-exports", "Databases export their PostgreSQL log to CloudWatch Logs.",
                    rds_log_exports, level=MANDATORY, types=DB_SERVERS, domain=DOMAIN, checkov=["CKV_AWS_324"]),
    resource_policy("rds-performance-insights", "Database instances have Performance Insights enabled.",
                    rds_performance_insights, level=MANDATORY, types=DB_INSTANCES, domain=DOMAIN, checkov=["CKV_AWS_353"]),
    resource_policy("rds-performance-insights-kms", "Performance Insights data is encrypted with a customer-managed key.",
                    rds_performance_insights_kms, level=MANDATORY, types=DB_INSTANCES, domain=DOMAIN,
                    checkov=["CKV_AWS_354"]),
    resource_policy("rds-not-public", "Database instances are never publicly accessible.",
                    rds_not_public, level=MANDATORY, types=DB_INSTANCES, domain=DOMAIN, checkov=["CKV_AWS_17"]),
    resource_policy("rds-copy-tags-to-snapshot", "Databases copy their tags to snapshots.",
                    rds_copy_tags_to_snapshot, level=MANDATORY, types=DB_SERVERS, domain=DOMAIN, checkov=["CKV_AWS_313"]),
    resource_policy("postgres-query-logging", "PostgreSQL parameter groups log statements and slow queries.",
                    postgres_query_logging, level=MANDATORY, types=[t.RDS_CLUSTER_PARAMETER_GROUP, t.RDS_PARAMETER_GROUP],
                    domain=DOMAIN, checkov=["CKV2_AWS_27"]),
    resource_policy("postgres-force-ssl", "PostgreSQL parameter groups force TLS on every connection.",
                    postgres_force_ssl, level=MANDATORY, types=[t.RDS_CLUSTER_PARAMETER_GROUP, t.RDS_PARAMETER_GROUP],
                    domain=DOMAIN),
    resource_policy("db-proxy-require-tls", "RDS Proxies accept TLS connections only.",
                    db_proxy_tls, level=MANDATORY, types=[t.RDS_PROXY], domain=DOMAIN),
    resource_policy("aurora-global-ignore-changes", "Aurora global members ignore changes to the global and replication identifiers.",
                    aurora_global_ignore_changes, level=MANDATORY, types=[t.RDS_CLUSTER], domain=DOMAIN,
                    reads_options=True),
    resource_policy("aurora-global-member-engine-version", "Aurora global members leave the engine version to the global cluster.",
                    aurora_global_engine_version, level=MANDATORY, types=[t.RDS_CLUSTER], domain=DOMAIN,
                    reads_options=True),
    resource_policy("aurora-global-cluster-engine-version", "The Aurora global cluster sets the engine version.",
                    aurora_global_version_on_global, level=MANDATORY, types=[t.RDS_GLOBAL_CLUSTER], domain=DOMAIN),
    resource_policy("aurora-global-no-managed-password", "Aurora global members use no RDS-managed master password.",
                    aurora_global_no_managed_password, level=MANDATORY, types=[t.RDS_CLUSTER], domain=DOMAIN),
    resource_policy("replication-lag-alarm-below-rpo", "Replication-lag alarms fire below the spec's 60-second RPO.",
                    lag_alarm_below_rpo, level=MANDATORY, types=[t.METRIC_ALARM], domain=DOMAIN,
                    config={"rpoSeconds": {"type": "integer", "default": RPO_SECONDS}}),
    stack_policy("aurora-secondary-no-credentials", "Aurora global secondaries set no master credentials or database name.",
                 aurora_secondary_no_credentials, level=MANDATORY, domain=DOMAIN),
    stack_policy("rds-cluster-multi-az", "Database clusters span at least two availability zones.",
                 rds_cluster_multi_az, level=MANDATORY, domain=DOMAIN, checkov=["CKV_AWS_157"]),
    stack_policy("rds-minor-upgrades", "Database instances take minor upgrades automatically, except Aurora global members.",
                 rds_minor_upgrades, level=MANDATORY, domain=DOMAIN, checkov=["CKV_AWS_226"]),
    stack_policy("db-proxy-pool-size", "The database pool holds 20 connections per application instance.",
                 db_proxy_pool_size, level=MANDATORY, domain=DOMAIN,
                 config={"connectionsPerInstance": {"type": "integer", "default": CONNECTIONS_PER_INSTANCE}}),
]
