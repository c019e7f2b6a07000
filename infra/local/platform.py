"""The local platform: every region of the stack files, on loopback, started and stopped here.

Per region, in deploy order (so a fourth region joins by its stack file):
- a PostgreSQL instance: the primary's, made with `initdb`, the project's migrations applied
  (`db/migrate.py`, row-level security on); each secondary's a streaming standby made with
  `pg_basebackup` over its own replication slot; each instance archives WAL into its
  region's archive (`archive_command`);
- PgBouncer in front of it, sized like the RDS Proxy: 20 connections per app instance of the
  region (`dbConnectionsPerAppInstance` x `appInstanceCount`);
- a redis-server;
- the reference application (`reference_app/app.py`), configured from the region's app
  contract (outputs with loopback endpoints).

Around them: the failover state store (`MemoryStateStore`), the routing records with their
TTLs (`DnsTable`), and the health checks and replication-lag metric (`Monitor`).

Time: `clock_scale` (the drill clock) divides every duration the platform's policies hold:
health-check interval, DNS TTL, hold-down, the 5 minutes of health before a failback, the
weight holds and the RPO budget. 1 is real time; nothing else changes with it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import psycopg

from db.migrate import apply
from infra.config import deploy_order, load_stack
from infra.config.stack import StackConfig
from infra.config.stackfiles import Project
from infra.domain import topology
from infra.domain.db_sizing import pool_size
from infra.domain.app_contract import APP_CONTRACT_VERSION, parse
from infra.domain.platform import Platform, RegionRecord
from infra.domain.routing_table import DeployedRegion, build, great_circle_km
from infra.local.dns import DnsTable
from infra.local.monitor import Monitor
from infra.local.servers import (APP_LOGIN, DATABASE, REPLICATOR, Pool, Postgres, Processes, Redis, ServerError,
                                 free_port, own, pg_bin, server_binary)
from infra.local.state import MemoryStateStore
from infra.ops.clock import Clock
from infra.ops.state import StateReader
from reference_app.app import AppConfig, ReferenceApp

TENANTS = 6
READY_SECONDS = 30.0


@dataclass
class LocalRegion:
    config: StackConfig
    record: RegionRecord
    node: Postgres
    pool: Pool
    redis: Redis
    archive: Path
    app_port: int
    app: Optional[ReferenceApp] = None

    @property
    def stack(self) -> str:
        return self.record.stack


def tenant_ids(count: int) -> dict[str, str]:
    return {f"tenant-{i + 1}": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"tenant-{i + 1}.hse-local")) for i in range(count)}


class LocalPlatform:
    def __init__(self, project_dir: Path, clock_scale: float = 1.0, tenants: int = TENANTS,
                 synchronous: bool = False):
        project = Project(project_dir)
        self.stacks = deploy_order(project)
        self.configs = {s: load_stack(project, s) for s in self.stacks}
        self.clock_scale = clock_scale
        self.synchronous = synchronous
        """Commits wait for one standby (the first in deploy order that streams), instead of none."""
        self.tenants = tenant_ids(tenants)
        primary = next(c for c in self.configs.values() if c.is_primary)
        self.edge = primary.edge
        self.domain = primary.edge.domain or "hse.local"
        self.root: Optional[Path] = None
        self.processes = Processes()
        self.regions: dict[str, LocalRegion] = {}
        self.writer = primary.stack
        """The stack whose instance takes the writes now."""
        self.clock = Clock()
        self.store = MemoryStateStore(self.clock)
        self.routing = build(DeployedRegion(s, c.aws_region, c.is_primary, c.deploy_order)
                             for s, c in self.configs.items())
        self.platform = Platform.of(self._record(c) for c in self.configs.values())
        self.dns = DnsTable(self.stacks, self._nearest(), self.seconds(self.edge.dns_ttl), self._healthy)
        self.monitor: Optional[Monitor] = None

    # -- time and topology --------------------------------------------------------------
    def seconds(self, spec_seconds: float) -> float:
        """A policy's duration on the drill clock."""
        return spec_seconds / self.clock_scale

    def _record(self, cfg: StackConfig) -> RegionRecord:
        stack = cfg.stack
        return RegionRecord(
            stack=stack, aws_region=cfg.aws_region, role=cfg.role, deploy_order=cfg.deploy_order,
            db_engine=cfg.database.engine, db_cluster_id=f"local-{stack}", db_cluster_arn=f"local:postgres:{stack}",
            db_global_cluster_id="local-streaming-replication", health_check_id=f"local-check-{stack}",
            regional_endpoint=f"{stack}.{self.domain}", hosted_zone_id="local", domain=self.domain,
            app_instance_count=cfg.app.instance_count, eks_cluster_name=f"local-{stack}",
            eks_node_group_name=f"local-{stack}", alarm_topic_arn=f"local:notify:{stack}")

    def _nearest(self) -> dict[str, list[str]]:
        at = {s: (topology.region(c.aws_region).latitude, topology.region(c.aws_region).longitude)
              for s, c in self.configs.items()}
        return {s: sorted(self.stacks, key=lambda o: (great_circle_km(at[s], at[o]), o)) for s in self.stacks}

    def _healthy(self, stack: str) -> bool:
        return self.monitor.healthy(stack) if self.monitor is not None else True

    def pool_size(self, stack: str, instances: Optional[int] = None) -> int:
        cfg = self.configs[stack]
        return pool_size(cfg.database.connections_per_instance, instances or cfg.app.instance_count)

    def region(self, stack: str) -> LocalRegion:
        return self.regions[stack]

    @property
    def primary_node(self) -> Postgres:
        return self.regions[self.writer].node

    # -- up and down ----------------------------------------------------------------------
    def __enter__(self) -> "LocalPlatform":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> None:
        for name, fallback in (("pgbouncer", "/usr/sbin/pgbouncer"), ("redis-server", "/usr/bin/redis-server")):
            server_binary(name, fallback)  # before anything starts: a missing package is one line
        pg_bin("initdb")
        self.root = own(Path(tempfile.mkdtemp(prefix="hse-local-drill-", dir=scratch())))
        for stack in self.stacks:
            base = self.root / stack
            archive, *_ = (own(_mkdir(base / part)) for part in ("archive", "postgres", "pgbouncer", "redis"))
            own(base)
            cfg = self.configs[stack]
            self.regions[stack] = LocalRegion(cfg, self.platform.region(stack),
                                              Postgres(stack, base / "postgres", self.processes, archive),
                                              Pool(stack, base / "pgbouncer", self.processes, self.pool_size(stack)),
                                              Redis(stack, base / "redis", self.processes), archive, free_port())
        primary = self.regions[self.writer]
        primary.node.init_primary()
        primary.node.start()
        self._prepare_database(primary.node)
        for stack in self.stacks:
            if stack != self.writer:
                self.regions[stack].node.init_standby(primary.node)
                self.regions[stack].node.start()
        if self.synchronous:
            names = f"FIRST 1 ({', '.join(self.regions[s].node.slot_name for s in self.stacks)})"
            for region in self.regions.values():
                region.node.make_synchronous(names)
        for region in self.regions.values():
            region.redis.start()
            region.pool.configure(region.node.port, primary.node.port)
            region.pool.start()
        for record in self.platform.regions:
            self.store.register(record)
        self.monitor = Monitor(self.regions, lambda: self.writer, self.seconds(self.edge.health_check_interval),
                               self.edge.health_check_failure_threshold)
        self.monitor.paused = True
        self.monitor.start()
        for stack in self.stacks:
            self.start_app(stack)
        self.wait_ready()
        self.monitor.paused = False

    def _prepare_database(self, node: Postgres) -> None:
        node.query(f"CREATE ROLE {REPLICATOR[0]} LOGIN REPLICATION PASSWORD '{REPLICATOR[1]}'", dbname="postgres")
        node.query(f"CREATE DATABASE {DATABASE}", dbname="postgres")
        with psycopg.connect(node.admin_dsn()) as conn:
            apply(conn)
            conn.execute(f"CREATE ROLE {APP_LOGIN[0]} LOGIN PASSWORD '{APP_LOGIN[1]}' IN ROLE hse_app")
            home = self.platform.original_primary.stack
            for name, tenant in self.tenants.items():
                conn.execute("INSERT INTO app.organizations (tenant_id, name, region) VALUES (%s, %s, %s)",
                             (tenant, name, home))

    def contract_outputs(self, stack: str) -> dict:
        region = self.regions[stack]
        return {"appContractVersion": APP_CONTRACT_VERSION, "stack": stack, "awsRegion": region.config.aws_region,
                "role": region.config.role, "appHost": f"app.{self.domain}", "regionalEndpoint": f"{stack}.{self.domain}",
                "cdnDomain": "", "dbWriterEndpoint": "127.0.0.1", "dbReaderEndpoint": "127.0.0.1",
                "dbProxyEndpoint": "127.0.0.1", "dbProxyReadOnlyEndpoint": "127.0.0.1", "dbAppEndpoint": "127.0.0.1",
                "dbPort": region.pool.port, "dbSecretArn": f"arn:aws:secretsmanager:local:000000000000:secret:{stack}",
                "cacheConfigurationEndpoint": "127.0.0.1", "cachePort": region.redis.port, "cacheTenantSecretArns": {},
                "healthCheckId": region.record.health_check_id, "routingTableVersion": self.routing.version}

    def start_app(self, stack: str) -> None:
        region = self.regions[stack]
        config = AppConfig(parse(self.contract_outputs(stack), f"local outputs of {stack}"), APP_LOGIN[0],
                           APP_LOGIN[1], self.routing.to_json(), self.tenants, StateReader(self.store),
                           timeout_seconds=min(10.0, max(1.0, self.seconds(10))))
        region.app = ReferenceApp(config, region.app_port)
        region.app.start()

    def stop_app(self, stack: str) -> None:
        region = self.regions[stack]
        if region.app is not None:
            region.app.stop()
            region.app = None

    def wait_ready(self) -> None:
        import urllib.request

        deadline = time.monotonic() + READY_SECONDS
        for stack in self.stacks:
            url = f"http://127.0.0.1:{self.regions[stack].app_port}/api/health"
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise ServerError(f"{stack}'s application did not become healthy in {READY_SECONDS:.0f} s")
                time.sleep(0.05)

    def down(self) -> None:
        """Stop everything this platform started, whatever state it is in."""
        if self.monitor is not None:
            self.monitor.stop()
        for stack in list(self.regions):
            try:
                self.stop_app(stack)
            except Exception:  # noqa: BLE001 - the servers below must stop whatever the app did
                pass
        self.processes.stop_all()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def lose(self, stack: str) -> None:
        """The region is lost: its application and its PostgreSQL stop at once."""
        self.stop_app(stack)
        self.regions[stack].node.stop(hard=True)

    def count(self, stack: str, sql: str, params: tuple = ()) -> list[tuple]:
        return self.regions[stack].node.query(sql, params)


SHM = Path("/dev/shm")
SHM_NEEDED_BYTES = 2 << 30


def scratch() -> Optional[str]:
    """Where the servers' files go: memory (/dev/shm) when it has room, else the temporary folder.
    Nothing here must survive the drill, and creating and deleting a few hundred MB of WAL on a slow
    disk would take longer than every scenario together."""
    try:
        if SHM.is_dir() and shutil.disk_usage(SHM).free >= SHM_NEEDED_BYTES:
            return str(SHM)
    except OSError:
        pass
    return None


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path

