"""The data tier of one stack, composed from its config: the regional keys (primary),
the master credentials (primary), the database, its proxy, its backups and its alarms.

A secondary reads what it joins from the primary's outputs: the global cluster (or the
instance it replicates), the engine version, its region's key and its region's replica
of the credentials. Nothing here branches on a stack's name; the role decides.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi

from components.database_alarms import DatabaseAlarms, DatabaseAlarmsArgs
from components.database_backups import CopyVault, DatabaseBackups, DatabaseBackupsArgs, vault_name
from components.database_credentials import DatabaseCredentials, DatabaseCredentialsArgs
from components.database_proxy import DatabaseProxy, DatabaseProxyArgs
from components.regional_keys import RegionalKeys, RegionalKeysArgs
from components.region_stack import RegionStack
from components.replica_database import DatabaseSettings, ReplicaDatabase, ReplicaDatabaseArgs
from infra.domain import db_sizing
from infra.config import StackConfig
from infra.config.database import readers
from infra.domain.contract import RegionExports
from infra.domain.naming import GLOBAL_REGION, physical_prefix, prefix
from infra.tiers.providers import RegionalProviders


def regions_of(cfg: StackConfig, others: dict[str, StackConfig]) -> dict[str, str]:
    """Region -> the stack that runs there, for every stack of the project."""
    return {c.aws_region: c.stack for c in [cfg, *others.values()]}


def regional_keys(cfg: StackConfig, others: dict[str, StackConfig], providers: RegionalProviders,
                  account_id: str, primary_exports: Optional[RegionExports]) -> dict[str, Any]:
    """The key of every region: created by the primary, read from it by a secondary."""
    if cfg.is_primary:
        stacks = regions_of(cfg, others)
        # us-east-1 too: the edge's alarms and their encrypted topic live there.
        stacks.setdefault(GLOBAL_REGION, "global")
        keys = RegionalKeys(f"{prefix(cfg.stack)}-keys", RegionalKeysArgs(
            account_id=account_id, home_region=cfg.aws_region,
            providers={region: providers.aws(region) for region in stacks},
            alias_prefix=f"alias/hse/{cfg.environment}/", stacks=stacks))
        return dict(keys.key_arns)
    # Checked before anything was declared (infra/tiers/peers.py): the primary has this region's key.
    return {cfg.aws_region: primary_exports.kms_key_arns[cfg.aws_region]}


def settings_of(cfg: StackConfig, primary_exports: Optional[RegionExports]) -> DatabaseSettings:
    db = cfg.database
    # The engine version is set once, on the primary; a secondary follows what it deployed.
    version = db.engine_version if cfg.is_primary else primary_exports.db_engine_version
    return DatabaseSettings(
        engine=db.engine, engine_version=version, instance_class=db.instance_class,
        reader_count=readers(db, cfg.is_primary), database_name=db.database_name, master_username=db.master_username,
        backup_retention_days=db.backup_retention_days, slow_query_ms=db.slow_query_ms,
        write_forwarding=db.write_forwarding, monitoring_interval=db.monitoring_interval,
        storage_gib=db.storage_gib)


def build_data_tier(cfg: StackConfig, others: dict[str, StackConfig], providers: RegionalProviders,
                    account_id: str, region: RegionStack, key_arns: dict[str, Any],
                    primary_exports: Optional[RegionExports], alarm_actions: Sequence[Any] = (),
                    earlier_vault_arns: Sequence[str] = ()) -> dict[str, Any]:
    """Declare the data tier; return its stack outputs. Its alarms notify `alarm_actions`; its
    backups are copied into `earlier_vault_arns` (the vaults of the stacks deployed before it)."""
    db = cfg.database
    name = prefix(cfg.stack)
    physical = physical_prefix(cfg.environment, cfg.stack)
    home_key = key_arns[cfg.aws_region]
    groups = region.security_groups
    settings = settings_of(cfg, primary_exports)
    later = sorted((o for o in others.values() if o.deploy_order > cfg.deploy_order), key=lambda o: o.deploy_order)
    home = pulumi.ResourceOptions(providers=[providers.home])

    credentials: Optional[DatabaseCredentials] = None
    if cfg.is_primary:
        credentials = DatabaseCredentials(f"{name}-db-credentials", DatabaseCredentialsArgs(
            username=db.master_username, database_name=db.database_name, key_arn=home_key,
            replica_key_arns={r: k for r, k in key_arns.items() if r != cfg.aws_region},
            secret_name_prefix=f"hse/{cfg.environment}/{cfg.stack}/db-master-",
            rotation_days=db.secret_rotation_days, rotation_subnet_ids=region.subnet_ids["app"],
            rotation_security_group_id=groups.app_group_id, region=cfg.aws_region,
            rnd_provider=providers.random, function_name=f"{physical}-db-rotation"), home)
        secret_arn: Any = credentials.secret_arn
    else:
        secret_arn = primary_exports.db_secret_arns[cfg.aws_region]  # checked in infra/tiers/peers.py

    backup_target = later[0] if (cfg.is_primary and later and db.engine == db_sizing.RDS) else None
    database = ReplicaDatabase(f"{name}-db", ReplicaDatabaseArgs(
        settings=settings, primary=cfg.is_primary, physical_prefix=physical,
        zones=cfg.network.availability_zones, subnet_ids=region.subnet_ids["data"],
        security_group_id=groups.database_group_id, key_arn=home_key,
        master_password=credentials.password if credentials else None,
        global_cluster_id=None if cfg.is_primary else primary_exports.db_global_cluster_id,
        global_cluster_arn=None if cfg.is_primary else primary_exports.db_global_cluster_arn,
        source_region=None if cfg.is_primary else primary_exports.aws_region,
        source_arn=None if cfg.is_primary else primary_exports.db_cluster_arn,
        backup_replica_region=backup_target.aws_region if backup_target else None,
        backup_replica_provider=providers.aws(backup_target.aws_region) if backup_target else None,
        backup_replica_key_arn=key_arns.get(backup_target.aws_region) if backup_target else None,
    ), home)
    secret_value = (credentials.store(database.writer_endpoint, database.port, database.writer_instances),) \
        if credentials is not None else ()

    klass = db_sizing.INSTANCE_CLASSES[db.instance_class]
    pool = db_sizing.pool_size(db.connections_per_instance, cfg.app.instance_count)
    percent = db_sizing.max_connections_percent(pool, db.instance_class, db_sizing.forwarding_reserve(db)
                                                if cfg.is_primary else 0)
    proxy = None
    if database.proxy_target:
        proxy = DatabaseProxy(f"{name}-db-proxy", DatabaseProxyArgs(
            region=cfg.aws_region, secret_arn=secret_arn, key_arn=home_key, subnet_ids=region.subnet_ids["data"],
            security_group_id=groups.proxy_group_id, target=database.proxy_target,
            max_connections_percent=percent, read_only_endpoint=db.engine == db_sizing.AURORA,
            secret_ready=secret_value), home)

    # Copies go only to vaults that exist now: the earlier stacks' (read from their outputs), or,
    # for the primary, which deploys first, a vault it declares itself in the next region.
    nxt = later[0] if cfg.is_primary and later else None
    backups = DatabaseBackups(f"{name}-backups", DatabaseBackupsArgs(
        vault_name=vault_name(cfg.environment, cfg.stack), key_arn=home_key,
        retention_days=db.backup_retention_days, database_arn=database.cluster_arn,
        copy_to=tuple(earlier_vault_arns),
        copy_vault=CopyVault(nxt.aws_region, providers.aws(nxt.aws_region), key_arns[nxt.aws_region]) if nxt else None,
    ), home)

    DatabaseAlarms(f"{name}-db-alarms", DatabaseAlarmsArgs(
        engine=db.engine, replica=not cfg.is_primary, cluster_id=database.cluster_id,
        lag_threshold_seconds=db.replication_lag_alarm_seconds, max_connections=klass.max_connections,
        memory_gib=klass.memory_gib, alarm_actions=tuple(alarm_actions),
        source_region="" if cfg.is_primary else primary_exports.aws_region), home)

    # Apps on a secondary read through the read-only endpoint; its read/write one works after promotion.
    app_endpoint = (proxy.endpoint if cfg.is_primary else proxy.read_only_endpoint) if proxy \
        else database.writer_endpoint if cfg.is_primary else database.reader_endpoint
    return {
        "kmsKeyArn": home_key,
        "kmsKeyArns": key_arns if cfg.is_primary else {},
        "dbEngine": db.engine,
        "dbEngineVersion": settings.engine_version,
        "dbWriterEndpoint": database.writer_endpoint,
        "dbReaderEndpoint": database.reader_endpoint,
        "dbProxyEndpoint": proxy.endpoint if proxy else "",
        "dbProxyArn": proxy.arn if proxy else "",
        "dbProxyReadOnlyEndpoint": proxy.read_only_endpoint if proxy else "",
        "dbAppEndpoint": app_endpoint,
        "dbPort": database.port,
        "dbPoolConnections": pool,
        "dbSecretArn": secret_arn,
        "dbSecretArns": credentials.secret_arns if credentials else {},
        "dbClusterId": database.cluster_id,
        "dbClusterArn": database.cluster_arn,
        "dbGlobalClusterId": database.global_cluster_id,
        "dbGlobalClusterArn": database.global_cluster_arn,
        "backupVaultArn": backups.vault_arn,
        "proxySecurityGroupId": groups.proxy_group_id,
    }
