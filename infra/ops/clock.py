"""Time as the controller sees it: real (seconds since the epoch, sleeping) or modeled
(the drill and the tests advance it by hand, so a 5-minute wait takes no time)."""

from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ModelClock(Clock):
    """A clock that only moves when told to (sleeping advances it)."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    advance = sleep


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
