"""Bounded load on the local platform: per region, the region's users write and read through
the application their DNS answer names, for a fixed time, then stop by themselves.

- a writer per region posts one incident at a time, each with a write id of its own
  (`<region>-<n>`), round-robin over the tenants; every attempt is kept, with whether it was
  acknowledged (201), which instance committed it and when (`Ledger`);
- a reader per region reads a tenant's latest rows and checks that every row returned
  belongs to that tenant (a cross-tenant row is counted, never expected).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from infra.local.dns import Resolver
from infra.local.platform import LocalPlatform

WRITE_PAUSE = 0.02
READ_PAUSE = 0.05
REQUEST_TIMEOUT = 3.0


@dataclass(frozen=True)
class Attempt:
    write_id: str
    users_of: str
    tenant: str
    sent: float
    done: float
    acked: bool
    writer: str = ""
    """The instance (stack) that committed it, when acknowledged."""
    committed_at: float = 0.0
    """Commit time (epoch seconds) as the database reported it."""
    error: str = ""


@dataclass
class Ledger:
    attempts: list[Attempt] = field(default_factory=list)
    reads: int = 0
    cross_tenant_rows: int = 0
    read_failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def read(self, ok: bool, foreign: int) -> None:
        with self._lock:
            self.reads += 1
            self.read_failures += not ok
            self.cross_tenant_rows += foreign

    def acked(self, before: Optional[float] = None) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.acked and (before is None or a.done <= before)]

    def all(self) -> list[Attempt]:
        with self._lock:
            return list(self.attempts)


def _request(port: int, method: str, path: str, body: Optional[dict] = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        conn.close()


class Load:
    """The writers and readers of every region, until `stop` or `seconds` have passed."""

    def __init__(self, local: LocalPlatform, ledger: Ledger, seconds: float, label: str):
        self.local = local
        self.ledger = ledger
        self.seconds = seconds
        self.label = label
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "Load":
        deadline = time.monotonic() + self.seconds
        for i, stack in enumerate(self.local.stacks):
            for role, target in (("writer", self._write), ("reader", self._read)):
                thread = threading.Thread(target=target, args=(stack, i, deadline), daemon=True,
                                          name=f"{role}:{stack}")
                thread.start()
                self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 2)

    def _port(self, resolver: Resolver) -> Optional[int]:
        stack = resolver.resolve()
        return None if stack is None else self.local.region(stack).app_port

    def _write(self, users_of: str, index: int, deadline: float) -> None:
        resolver = Resolver(self.local.dns, users_of, seed=index)
        tenants = list(self.local.tenants)
        n = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            n += 1
            write_id = f"{self.label}:{users_of}-{n}"
            tenant = tenants[(n + index) % len(tenants)]
            sent = time.time()
            port = self._port(resolver)
            try:
                if port is None:
                    raise OSError("no healthy region answers")
                status, body = _request(port, "POST", "/api/incidents", {"tenant": tenant, "writeId": write_id})
                if status != 201:
                    raise OSError(f"{status} {body.get('error', '')}")
                self.ledger.add(Attempt(write_id, users_of, tenant, sent, time.time(), True, body["writer"],
                                        float(body["committedAt"])))
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                self.ledger.add(Attempt(write_id, users_of, tenant, sent, time.time(), False, error=str(exc)[:80]))
            self._stop.wait(WRITE_PAUSE)

    def _read(self, users_of: str, index: int, deadline: float) -> None:
        resolver = Resolver(self.local.dns, users_of, seed=100 + index)
        tenants = list(self.local.tenants)
        n = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            n += 1
            tenant = tenants[(n + index) % len(tenants)]
            port = self._port(resolver)
            try:
                if port is None:
                    raise OSError("no healthy region answers")
                status, body = _request(port, "GET", f"/api/incidents?tenant={tenant}")
                if status != 200:
                    raise OSError(str(status))
                own = self.local.tenants[tenant]
                self.ledger.read(True, sum(1 for row in body["rows"] if row["tenantId"] != own))
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                self.ledger.read(False, 0)
            self._stop.wait(READ_PAUSE)
