"""What the local platform's health checks and replication-lag metric see, sampled in one thread.

- **Health checks**, as Route53's: every `interval` seconds a GET of each region's
  `/api/health`; `threshold` failures in a row turn the region's check unhealthy (the alarm),
  as many successes turn it healthy again. Each change is a `Signal` (what the health alarm's
  EventBridge event becomes), queued for the controller (`signals`).
- **Replication lag**, in seconds of commit time: every `tick` seconds the writer's WAL
  position is recorded with the time, and each standby's replayed position read; a standby's
  lag is the age of the oldest WAL position the writer had that the standby has not
  replayed (0 when it has replayed all of it). When the writer is lost its last positions
  stand, as the last datapoints of a metric do; a standby that does not answer has no lag
  (unknown, never 0).
"""

from __future__ import annotations

import collections
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Callable, Optional

import psycopg

from infra.ops.signals import Signal

HISTORY_SECONDS = 300.0
PROBE_TIMEOUT_SECONDS = 4.0
"""How long a health check waits for `/api/health` (Route53's checkers: 4 s; not on the drill clock)."""
SOURCE = "local-health-check"


class Monitor:
    def __init__(self, regions: dict, writer: Callable[[], str], interval: float, threshold: int,
                 tick: float = 0.05):
        self.regions = regions
        """Stack -> its `LocalRegion` (node, app port)."""
        self.writer = writer
        self.interval = interval
        self.threshold = threshold
        self.tick = tick
        self.signals: "queue.Queue[Signal]" = queue.Queue()
        self._state = {stack: True for stack in regions}
        self._streak = {stack: 0 for stack in regions}
        self._history: "collections.deque[tuple[float, int]]" = collections.deque()
        self._lag: dict[str, tuple[float, float]] = {}
        self._conns: dict[str, psycopg.Connection] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.paused = False
        """While set, no health check runs (the drill's bring-up)."""

    # -- reading --------------------------------------------------------------------------
    def healthy(self, stack: str) -> bool:
        return self._state[stack]

    def failing(self, stack: str) -> int:
        """Checks in a row that disagree with the region's current verdict."""
        return self._streak[stack]

    def lag(self, stack: str) -> Optional[float]:
        found = self._lag.get(stack)
        if found is None or time.monotonic() - found[0] > max(1.0, 20 * self.tick):
            return None
        return found[1]

    # -- sampling -------------------------------------------------------------------------
    def _sql(self, stack: str, sql: str) -> Optional[str]:
        node = self.regions[stack].node
        if not node.running():
            self._drop(stack)
            return None
        try:
            conn = self._conns.get(stack)
            if conn is None or conn.closed:
                conn = psycopg.connect(node.admin_dsn(), autocommit=True, connect_timeout=1, prepare_threshold=None)
                self._conns[stack] = conn
            return conn.execute(sql).fetchone()[0]
        except psycopg.Error:
            self._drop(stack)
            return None

    def _drop(self, stack: str) -> None:
        conn = self._conns.pop(stack, None)
        if conn is not None:
            conn.close()

    def sample_lag(self) -> None:
        from infra.local.servers import lsn

        now = time.monotonic()
        writer = self.writer()
        position = self._sql(writer, "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() END")
        if position is not None:
            self._history.append((now, lsn(position)))
            while self._history and now - self._history[0][0] > HISTORY_SECONDS:
                self._history.popleft()
        for stack in self.regions:
            if stack == writer:
                continue
            replayed = self._sql(stack, "SELECT pg_last_wal_replay_lsn()")
            if replayed is None or not self._history:
                continue
            at = lsn(replayed)
            behind = next((t for t, w in self._history if w > at), None)
            self._lag[stack] = (now, 0.0 if behind is None else now - behind)

    def check_health(self) -> None:
        for stack, region in self.regions.items():
            # Route53's checkers wait 4 s for an answer; a lost application refuses at once.
            ok = _probe(f"http://127.0.0.1:{region.app_port}/api/health", timeout=PROBE_TIMEOUT_SECONDS)
            if ok == self._state[stack]:
                self._streak[stack] = 0
                continue
            self._streak[stack] += 1
            if self._streak[stack] >= self.threshold:
                self._state[stack] = ok
                self._streak[stack] = 0
                self.signals.put(Signal(stack, "region", "OK" if ok else "ALARM", f"{SOURCE}:{stack}"))

    def _run(self) -> None:
        next_check = time.monotonic()
        while not self._stop.is_set():
            self.sample_lag()
            if not self.paused and time.monotonic() >= next_check:
                self.check_health()
                next_check = time.monotonic() + self.interval
            self._stop.wait(self.tick)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for stack in list(self._conns):
            self._drop(stack)

    def next_signal(self, timeout: float) -> Optional[Signal]:
        try:
            return self.signals.get(timeout=timeout)
        except queue.Empty:
            return None


def _probe(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return 200 <= answer.status < 400
    except (urllib.error.URLError, OSError, ValueError):
        return False
