"""The local backend: the steps the controller and the failback decide, carried out on the
local platform's real servers (`infra.ops.backend` lists the helpers).

- database: `promote` fences the old primary first (its `pg_hba.conf` rejects every TCP
  connection and its client sessions end: split brain is impossible even when it comes back
  by itself), then `pg_promote` on the target, slots for the other standbys, every pool's
  `hse_rw` repointed (a reload), the other standbys repointed to stream from the target.
  `switchover` is the planned, lossless move: fence the writer, wait until the target has
  replayed its last WAL position, stop it cleanly, promote the target, repoint, and rewind
  and re-attach the old writer as a standby. `rejoin` (the runbook's "rebuild it as a
  secondary") rewinds a former primary with `pg_rewind` (a new base backup when that fails)
  and re-attaches it; the fence is lifted only once it is a standby.
- health: the health checks' verdict and the measured lag (`Monitor`).
- traffic: the routing records with their TTLs (`DnsTable`).
- capacity: the region's PgBouncer resized to 20 connections per app instance (the RDS
  Proxy's sizing) and the instance count recorded for the cluster side.
- cache: each region's redis-server is independent (no Global Datastore locally).
- notifier: messages and metrics kept in order, for the drill's record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from infra.domain.platform import Platform, RegionRecord
from infra.local.platform import LocalPlatform
from infra.local.servers import ServerError
from infra.ops.backend import Backend, Helpers
from infra.ops.clock import Clock
from infra.ops.database import DatabaseError, Promotion
from infra.ops.state import StateStore

CATCH_UP_SECONDS = 30.0
PROMOTED = "pg_promote"


class LocalHealth:
    def __init__(self, local: LocalPlatform):
        self.local = local

    def healthy(self, region: RegionRecord) -> bool:
        return self.local.monitor.healthy(region.stack)

    def replication_lag_seconds(self, region: RegionRecord, source: RegionRecord):
        return self.local.monitor.lag(region.stack)


@dataclass
class Timing:
    """How long each part of a database action took (seconds), for the drill's attribution."""

    parts: list[tuple[str, float]] = field(default_factory=list)

    def add(self, name: str, started: float) -> None:
        self.parts.append((name, time.perf_counter() - started))


class LocalDatabase:
    def __init__(self, local: LocalPlatform):
        self.local = local
        self.timings: list[Timing] = []

    def _node(self, region: RegionRecord):
        return self.local.region(region.stack).node

    # -- reading ----------------------------------------------------------------------------
    def writer(self, via: RegionRecord):
        for stack in self.local.stacks:
            node = self.local.region(stack).node
            try:
                if node.running() and not node.fenced() and not node.in_recovery():
                    return stack
            except Exception:  # noqa: BLE001 - an instance that does not answer writes nothing
                continue
        return None

    def is_member(self, region: RegionRecord, via: RegionRecord) -> bool:
        node = self._node(region)
        try:
            return node.running() and node.streaming_from() == self._node(via).port
        except Exception:  # noqa: BLE001 - not answering is not streaming
            return False

    def replication_missing(self, home: RegionRecord, interim: RegionRecord) -> str:
        if self.writer(interim) != interim.stack:
            return f"{interim.stack}'s instance is not the writer"
        if not self.is_member(home, interim):
            return (f"{home.stack}'s instance does not stream from {interim.stack}; rewind and re-attach it first "
                    "(docs/runbooks/failback.md)")
        return ""

    # -- acting -----------------------------------------------------------------------------
    def fence(self, old: RegionRecord) -> str:
        return self._node(old).fence()

    def promote(self, failed: RegionRecord, target: RegionRecord) -> Promotion:
        timing = Timing()
        self.timings.append(timing)
        started = time.perf_counter()
        fenced = self.fence(failed)
        timing.add("fence", started)
        started = time.perf_counter()
        try:
            self._node(target).promote()
        except ServerError as exc:
            raise DatabaseError(str(exc)) from None
        timing.add("pg_promote", started)
        started = time.perf_counter()
        self._take_writes(target, exclude={failed.stack})
        timing.add("repoint", started)
        return Promotion(PROMOTED, target.stack, f"fenced {failed.stack} ({fenced}); pg_promote on {target.stack}; "
                                                 f"every pool's writes and every standby repointed to {target.stack}")

    def _take_writes(self, target: RegionRecord, exclude: set[str]) -> None:
        node = self._node(target)
        self.local.writer = target.stack
        for stack in self.local.stacks:
            region = self.local.region(stack)
            region.pool.repoint(node.port)
            if stack == target.stack or stack in exclude or not region.node.running():
                continue
            node.ensure_slot(region.node)
            region.node.repoint(node)

    def caught_up(self, target: RegionRecord, position: int) -> None:
        """Wait until `target` has replayed WAL up to `position`; DatabaseError when it does not in time."""
        node = self._node(target)
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while node.replay_lsn() < position:
            if time.monotonic() > deadline:
                raise DatabaseError(f"{target.stack} did not replay the writer's last WAL in {CATCH_UP_SECONDS:.0f} s; "
                                    "nothing promoted")
            time.sleep(0.01)

    def switchover(self, target: RegionRecord) -> str:
        """The planned move of the writer to `target`: nothing acknowledged is lost; what was done, in a line."""
        timing = Timing()
        self.timings.append(timing)
        old = self.local.platform.region(self.local.writer)
        old_node, node = self._node(old), self._node(target)
        started = time.perf_counter()
        old_node.fence()
        position = old_node.current_lsn()
        timing.add("fence", started)
        started = time.perf_counter()
        self.caught_up(target, position)
        timing.add("catch-up", started)
        started = time.perf_counter()
        old_node.stop()
        node.promote()
        self._take_writes(target, exclude={old.stack})
        timing.add("promote", started)
        started = time.perf_counter()
        rejoined = self.rejoin(old, target)
        timing.add("re-attach", started)
        return (f"fenced {old.stack}; {target.stack} replayed its last WAL; {old.stack} stopped cleanly; pg_promote on "
                f"{target.stack}; pools and standbys repointed; {rejoined}")

    def rejoin(self, old: RegionRecord, writer: RegionRecord) -> str:
        """Rewind the former primary `old` onto `writer`'s timeline (a new base backup when it cannot
        be rewound) and start it as `writer`'s standby; its fence is lifted once it is one."""
        node, source = self._node(old), self._node(writer)
        if node.running():
            node.stop()
        source.ensure_slot(node)
        how = "pg_rewind"
        try:
            how = f"pg_rewind: {node.rewind(source)}"
        except ServerError:
            node.rebuild(source)
            how = "a new base backup"
        node.follow_file(source)
        node.write_hba(fenced=False)
        node.start()
        return f"{old.stack} re-attached to {writer.stack} as a standby ({how})"


class LocalTraffic:
    def __init__(self, local: LocalPlatform):
        self.dns = local.dns

    def hold(self, home: RegionRecord, interim: RegionRecord) -> int:
        self.dns.hold(home.stack, interim.stack)
        return 1

    def shift(self, home: RegionRecord, percent: int) -> None:
        self.dns.shift(home.stack, percent)

    def release(self, home: RegionRecord) -> None:
        self.dns.release(home.stack)

    def held(self, home: RegionRecord) -> bool:
        return home.stack in self.dns.held


class LocalCapacity:
    def __init__(self, local: LocalPlatform, store: StateStore):
        self.local = local
        self.store = store

    def scale_to(self, region: RegionRecord, instances: int, reason: str) -> str:
        pool = self.local.region(region.stack).pool
        before, pool.size = pool.size, self.local.pool_size(region.stack, instances)
        pool.repoint(pool.write_port)
        self.store.set_capacity(region.stack, hpa_min_replicas=instances, node_count=instances, reason=reason)
        return f"{region.stack}: {instances} app instances recorded; PgBouncer pool {before} -> {pool.size}"


class LocalCache:
    def fail_over(self, target: RegionRecord) -> str:
        return "no Global Datastore locally: each region's redis-server stays independent"


class LocalNotifier:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.messages: list[dict] = []

    def publish(self, region: RegionRecord, subject: str, body: dict) -> str:
        self.messages.append({"region": region.stack, "subject": subject, "body": body, "at": self.clock.now()})
        return f"local-{len(self.messages)}"

    def metric(self, region: RegionRecord, kind: str, failed: str, target: str) -> None:
        self.messages.append({"region": region.stack, "metric": kind, "failed": failed, "target": target,
                              "at": self.clock.now()})


class LocalBackend(Backend):
    def __init__(self, local: LocalPlatform):
        self.local = local
        self.health = LocalHealth(local)
        self.database = LocalDatabase(local)
        self.traffic = LocalTraffic(local)
        self.cache = LocalCache()
        self.notifier = LocalNotifier(local.clock)

    def bind(self, platform: Platform, store: StateStore, clock: Clock) -> Helpers:
        return Helpers(self.health, self.database, self.cache, LocalCapacity(self.local, store), self.traffic,
                       self.notifier)
