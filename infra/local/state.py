"""The failover state store of the local platform: the same `StateStore` (items, lock,
timeline, `StateReader`), its items kept in this process instead of a DynamoDB table.

Only the storage primitives differ: read, write and delete an item by key, read a
partition in sort-key order, and the lock's conditional write. Everything the controller,
the failback and the application read or write goes through the code AWS runs.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from typing import Any, Optional

from infra.domain.failover_state import PLATFORM
from infra.ops.clock import Clock
from infra.ops.state import LOCK_LEASE_SECONDS, StateStore


class MemoryStateStore(StateStore):
    def __init__(self, clock: Clock):  # noqa: D107 - no table, no client
        self.region = "local"
        self.table = "local"
        self.clock = clock
        self.page_size = None
        self._seq = itertools.count()
        self._items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, pk: str, sk: str) -> Optional[dict[str, Any]]:
        with self._lock:
            item = self._items.get((pk, sk))
            return copy.deepcopy(item) if item is not None else None

    def put(self, pk: str, sk: str, **values: Any) -> None:
        with self._lock:
            self._items[(pk, sk)] = copy.deepcopy({"pk": pk, "sk": sk, **values})

    def delete(self, pk: str, sk: str) -> None:
        with self._lock:
            self._items.pop((pk, sk), None)

    def query(self, pk: str, newest_first: bool = False, last: Optional[int] = None) -> list[dict[str, Any]]:
        with self._lock:
            items = [copy.deepcopy(v) for (p, _), v in sorted(self._items.items()) if p == pk]
        if newest_first:
            items.reverse()
        return items if last is None else items[:last]

    def acquire(self, operation: str) -> Optional[str]:
        token = uuid.uuid4().hex
        now = self.clock.now()
        with self._lock:
            held = self._items.get((PLATFORM, "LOCK"))
            if held is not None and float(held["expires_at"]) >= now:
                return None
            self._items[(PLATFORM, "LOCK")] = {"pk": PLATFORM, "sk": "LOCK", "operation": operation, "token": token,
                                               "taken_at": now, "expires_at": now + LOCK_LEASE_SECONDS}
        return token

    def release(self, token: str) -> None:
        with self._lock:
            held = self._items.get((PLATFORM, "LOCK"))
            if held is not None and held["token"] == token:
                del self._items[(PLATFORM, "LOCK")]
