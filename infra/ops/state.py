"""The failover state store: a DynamoDB global table (one replica per region).

Why DynamoDB and not SSM Parameter Store: the state must be readable and writable in
every region while one region is lost (a global table replicates every write to every
region; SSM parameters live in one region), the controller needs an atomic
"take the lock unless someone holds it" (a conditional write; SSM has no compare and
set), and the timeline is an append-only list of items, which SSM's 10,000-parameter,
4 KB model fits badly. Conditional writes are consistent within one region, so the lock
is always taken in the controller's region (`StateStore(region=...)`).

Items (partition key `pk`, sort key `sk`):

| pk | sk | holds |
|---|---|---|
| `PLATFORM` | `STATE` | mode (`normal`, `failed-over`, `failing-back`), current and original primary, since |
| `PLATFORM` | `LOCK` | the running operation and when its lease ends |
| `REGION#<stack>` | `HEALTH` | healthy or not, and since when |
| `REGION#<stack>` | `CAPACITY` | the HPA minimum and node count the cluster side must apply |
| `REGION#<stack>` | `PROBE` | the watchdog's consecutive failed probes of the region (`infra/ops/watchdog.py`) |
| `TOPOLOGY` | `<stack>` | the region's identifiers (`RegionRecord`), written by its stack |
| `EVENTS` | `<time>#<seq>` | the timeline: operation, step, detail, modeled and measured seconds; `expiresAt` |

Reads never assume one page: a Query returns at most 1 MB (or `Limit` items) and a
`LastEvaluatedKey` to go on from, so every read loops until there is none. Items are read
by key (`GetItem`) wherever the key is known; the timeline is one partition read newest
first, stopping as soon as the events asked for are in hand; the regions' topology items
share the `TOPOLOGY` partition, so finding every region is one Query too. Nothing scans
the table: the application's role (`/api/regions/status` reads the platform) may
`GetItem` and `Query`, not `Scan`. Timeline events expire after `EVENT_RETENTION_DAYS`
(90) through the table's time to live (`expiresAt`, `infra/domain/failover_state.py`).

`StateReader` is what the application's `/api/health/failover` and `/api/regions/status`
call; it reads and never writes.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from botocore.exceptions import ClientError

from infra.ops.clock import Clock, iso
from infra.domain.failover_state import (EVENTS, PLATFORM, TOPOLOGY, TTL_ATTRIBUTE, capacity_key, decode, encode,
                                         event_expiry, topology_key)
from infra.domain.platform import Platform, RegionRecord

NORMAL, FAILED_OVER, FAILING_BACK = "normal", "failed-over", "failing-back"
LOCK_LEASE_SECONDS = 900
"""Longer than any operation may take (a Lambda runs 15 minutes at most): a crashed
holder's lock expires instead of blocking the platform for ever."""

@dataclass(frozen=True)
class PlatformState:
    mode: str
    current_primary: str
    original_primary: str
    since: float
    failed_region: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "currentPrimary": self.current_primary, "originalPrimary": self.original_primary,
                "since": iso(self.since), "failedRegion": self.failed_region}


class StateStore:
    """Reads and writes the state table in one region."""

    def __init__(self, clients, region: str, table: str, clock: Clock, page_size: Optional[int] = None):
        self.db = clients("dynamodb", region)
        self.region = region
        self.table = table
        self.clock = clock
        self.page_size = page_size
        """`Limit` of each Query and Scan page (None: DynamoDB's 1 MB pages); the tests make it small."""
        self._seq = itertools.count()

    # -- plain items ------------------------------------------------------------------
    def get(self, pk: str, sk: str) -> Optional[dict[str, Any]]:
        item = self.db.get_item(TableName=self.table, Key=encode({"pk": pk, "sk": sk}), ConsistentRead=True).get("Item")
        return decode(item) if item else None

    def put(self, pk: str, sk: str, **values: Any) -> None:
        self.db.put_item(TableName=self.table, Item=encode({"pk": pk, "sk": sk, **values}))

    def delete(self, pk: str, sk: str) -> None:
        self.db.delete_item(TableName=self.table, Key=encode({"pk": pk, "sk": sk}))

    def _pages(self, operation, wanted: Optional[int] = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a Query, page after page (`LastEvaluatedKey`), or the first `wanted`."""
        items: list[dict[str, Any]] = []
        if wanted is not None and wanted <= 0:
            return items
        while True:
            limit = [n for n in (self.page_size, None if wanted is None else wanted - len(items)) if n is not None]
            page = operation(TableName=self.table, **kwargs, **({"Limit": min(limit)} if limit else {}))
            items += [decode(i) for i in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start or (wanted is not None and len(items) >= wanted):
                return items
            kwargs["ExclusiveStartKey"] = start

    def query(self, pk: str, newest_first: bool = False, last: Optional[int] = None) -> list[dict[str, Any]]:
        """The items of partition `pk` in sort-key order (or the `last` ones when newest first)."""
        return self._pages(lambda **page: self.db.query(**page), last, KeyConditionExpression="pk = :pk",
                           ExpressionAttributeValues=encode({":pk": pk}), ConsistentRead=True,
                           ScanIndexForward=not newest_first)

    # -- the platform -----------------------------------------------------------------
    def register(self, record: RegionRecord) -> None:
        key = topology_key(record.stack)
        self.put(key["pk"], key["sk"], **record.to_item())

    def platform(self) -> Platform:
        """Every registered region: one Query of the `TOPOLOGY` partition, to its last page."""
        return Platform.of(RegionRecord.from_item(item) for item in self.query(TOPOLOGY))

    def state(self, platform: Platform) -> PlatformState:
        item = self.get(PLATFORM, "STATE")
        if item is None:
            primary = platform.original_primary.stack
            return PlatformState(NORMAL, primary, primary, 0.0)
        return PlatformState(item["mode"], item["current_primary"], item["original_primary"], float(item["since"]),
                             item.get("failed_region", ""))

    def set_state(self, state: PlatformState) -> None:
        self.put(PLATFORM, "STATE", mode=state.mode, current_primary=state.current_primary,
                 original_primary=state.original_primary, since=state.since, failed_region=state.failed_region)

    def set_health(self, stack: str, healthy: bool) -> float:
        """Record a region's health; returns since when it has been in that state."""
        now = self.clock.now()
        current = self.get(f"REGION#{stack}", "HEALTH")
        since = float(current["since"]) if current and current["healthy"] == healthy else now
        self.put(f"REGION#{stack}", "HEALTH", healthy=healthy, since=since, updated_at=now)
        return since

    def health(self, stack: str) -> Optional[dict[str, Any]]:
        return self.get(f"REGION#{stack}", "HEALTH")

    def set_capacity(self, stack: str, hpa_min_replicas: int, node_count: int, reason: str) -> None:
        key = capacity_key(stack)
        self.put(key["pk"], key["sk"], hpa_min_replicas=hpa_min_replicas, node_count=node_count,
                 reason=reason, updated_at=self.clock.now())

    def capacity(self, stack: str) -> Optional[dict[str, Any]]:
        key = capacity_key(stack)
        return self.get(key["pk"], key["sk"])

    def probe_result(self, stack: str, healthy: bool) -> tuple[int, int]:
        """Count a watchdog probe: (consecutive failures now, consecutive failures before)."""
        current = self.get(f"REGION#{stack}", "PROBE")
        before = int(current["failures"]) if current else 0
        failures = 0 if healthy else before + 1
        self.put(f"REGION#{stack}", "PROBE", failures=failures, updated_at=self.clock.now())
        return failures, before

    # -- the lock ---------------------------------------------------------------------
    def acquire(self, operation: str) -> Optional[str]:
        """Take the platform lock for `operation`; None when another operation holds it."""
        token = uuid.uuid4().hex
        now = self.clock.now()
        try:
            self.db.put_item(
                TableName=self.table,
                Item=encode({"pk": PLATFORM, "sk": "LOCK", "operation": operation, "token": token,
                             "taken_at": now, "expires_at": now + LOCK_LEASE_SECONDS}),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues=encode({":now": now}))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return token

    def holder(self) -> Optional[dict[str, Any]]:
        item = self.get(PLATFORM, "LOCK")
        return item if item and float(item["expires_at"]) >= self.clock.now() else None

    def release(self, token: str) -> None:
        try:
            self.db.delete_item(TableName=self.table, Key=encode({"pk": PLATFORM, "sk": "LOCK"}),
                                ConditionExpression="#t = :t", ExpressionAttributeNames={"#t": "token"},
                                ExpressionAttributeValues=encode({":t": token}))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    # -- the timeline -----------------------------------------------------------------
    def record_event(self, operation: str, step: str, detail: str, modeled_seconds: float = 0.0,
                     wall_ms: float = 0.0) -> dict[str, Any]:
        now = self.clock.now()
        event = {"operation": operation, "step": step, "detail": detail, "at": now,
                 "modeled_seconds": modeled_seconds, "wall_ms": round(wall_ms, 3)}
        self.put(EVENTS, f"{iso(now)}#{now:017.6f}#{next(self._seq):06d}", **event,
                 **{TTL_ATTRIBUTE: event_expiry(now)})
        return event

    def events(self, operation: Optional[str] = None, last: Optional[int] = None) -> list[dict[str, Any]]:
        """The timeline, oldest first: every event, or only the `last` ones (read newest first,
        so only those pages are read)."""
        if last is not None and operation is None:
            return list(reversed(self.query(EVENTS, newest_first=True, last=last)))
        items = [i for i in self.query(EVENTS) if operation is None or i["operation"] == operation]
        return items if last is None else items[-last:]


class StateReader:
    """What the application's health endpoints read (read-only; any region's replica)."""

    def __init__(self, store: StateStore):
        self.store = store

    def failover_status(self, last: int = 20) -> dict[str, Any]:
        """`/api/health/failover`: the mode, the writer region and the latest events."""
        platform = self.store.platform()
        state = self.store.state(platform)
        holder = self.store.holder()
        events = self.store.events(last=last)
        return {**state.to_json(),
                "operationInProgress": holder["operation"] if holder else "",
                "events": [{"at": iso(float(e["at"])), "operation": e["operation"], "step": e["step"],
                            "detail": e["detail"]} for e in events]}

    def regions_status(self) -> dict[str, Any]:
        """`/api/regions/status`: every region, its role now and its health."""
        platform = self.store.platform()
        state = self.store.state(platform)
        regions = []
        for record in platform.regions:
            health = self.store.health(record.stack)
            capacity = self.store.capacity(record.stack)
            regions.append({
                "stack": record.stack, "awsRegion": record.aws_region,
                "role": "primary" if record.stack == state.current_primary else "secondary",
                "healthy": bool(health["healthy"]) if health else True,
                "since": iso(float(health["since"])) if health else "",
                "appInstances": int(capacity["hpa_min_replicas"]) if capacity else record.app_instance_count,
            })
        return {"mode": state.mode, "currentPrimary": state.current_primary, "regions": regions}
