"""The database section: engine, sizes, backups, alarms, and their checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from infra.domain import db_sizing
from infra.domain.problems import Problem
from infra.config.base import NAMESPACE, Section

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


SECONDARY_READERS = 2
"""A secondary has no writer: two readers keep it in two AZs (policy `rds-cluster-multi-az`)."""


def readers(db: "DatabaseConfig", is_primary: bool) -> int:
    """The readers a region runs: the configured count, or the role's default (0 = default)."""
    return db.reader_count or (1 if is_primary else SECONDARY_READERS)


class DatabaseConfig(Section):
    """The data tier: the PostgreSQL cluster of the region, its pool, backups and alarms."""

    engine: Literal["aurora-postgresql", "rds-postgres"] = Field(
        "aurora-postgresql", alias="dbEngine",
        description="aurora-postgresql (a global database) or rds-postgres (Multi-AZ RDS with cross-region read replicas).")
    engine_version: str = Field("16.6", alias="dbEngineVersion", pattern=r"^\d{2}\.\d{1,2}$",
                                description="PostgreSQL version, major.minor, e.g. 16.6; set once, on the primary.")
    instance_class: str = Field("db.r6g.large", alias="dbInstanceClass",
                                description="Instance class of every database instance, e.g. db.r6g.large.")
    reader_count: int = Field(0, alias="dbReaderCount",
                              description="Read replicas besides the writer (primary) or in the region (secondary), "
                                          "1 to 15; 0 (the default): 1 on the primary, 2 on a secondary, so every "
                                          "region keeps instances in two AZs.")
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


MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)


RESERVED_USERNAMES = ("admin", "postgres", "rdsadmin", "rds_superuser", "public", "user")


def check_database(cfg: StackConfig) -> list[Problem]:
    db = cfg.database
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    klass = db_sizing.INSTANCE_CLASSES.get(db.instance_class)
    supported = db_sizing.classes_for(db.engine)
    if klass is None or db.engine not in klass.engines:
        why = "is not an instance class this project sizes" if klass is None else f"does not run {db.engine}"
        bad("dbInstanceClass", f"{db.instance_class} {why}; valid for {db.engine}: {', '.join(supported)}")
    if not (0 <= db.reader_count <= 15):
        bad("dbReaderCount", f"{db.reader_count} is out of range; expected 1 to 15 (a reader in another AZ at least), "
                             "or 0 for the role's default")
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
