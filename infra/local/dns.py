"""The local platform's DNS: the routing records, with TTLs, as the load's clients resolve them.

The same decisions as Route53 with the records the edge tier declares: each region's
users (`app.<domain>` for their geolocation) get their own region's endpoint while its
health check passes, else the nearest healthy region. After a failover the controller
holds a region's users on the interim region through a weighted set (`hold`), failback
moves them back step by step (`shift`: 10, 25, 50, 100 %) and then deletes the set
(`release`). A client keeps an answer for the record's TTL, as resolvers do, so a change
reaches it only when its cached answer expires.

Every change is kept (`history`) so the drill can show which weights users saw, and when.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class WeightedSet:
    weights: dict[str, int]


@dataclass
class DnsTable:
    regions: list[str]
    """Stacks in deploy order."""
    nearest: dict[str, list[str]]
    """Stack -> every stack, nearest first (itself first)."""
    ttl_seconds: float
    healthy: Callable[[str], bool]
    """The health checks' verdict on a stack (what Route53's health-checked records use)."""
    held: dict[str, WeightedSet] = field(default_factory=dict)
    history: list[tuple[float, str, dict[str, int]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- changing the records (the controller's traffic helper) ------------------------
    def hold(self, home: str, interim: str) -> None:
        with self._lock:
            self.held[home] = WeightedSet({home: 0, interim: 100})
            self.history.append((time.monotonic(), home, dict(self.held[home].weights)))

    def shift(self, home: str, percent: int) -> None:
        with self._lock:
            current = self.held[home]
            others = [s for s in current.weights if s != home]
            current.weights = {home: percent, **{s: 100 - percent for s in others}}
            self.history.append((time.monotonic(), home, dict(current.weights)))

    def release(self, home: str) -> None:
        with self._lock:
            self.held.pop(home, None)
            self.history.append((time.monotonic(), home, {home: 100}))

    def steps(self, home: str) -> list[tuple[float, int]]:
        """(when, `home`'s weight) of every change of `home`'s records, oldest first."""
        return [(at, weights.get(home, 0)) for at, stack, weights in self.history if stack == home]

    # -- answering ----------------------------------------------------------------------
    def answer(self, users_of: str, rng: random.Random) -> Optional[str]:
        """The endpoint (a stack) `users_of`'s users are sent to now."""
        with self._lock:
            held = self.held.get(users_of)
            weights = dict(held.weights) if held else None
        if weights:
            live = {s: w for s, w in weights.items() if w > 0 and self.healthy(s)}
            if live:
                pick = rng.uniform(0, sum(live.values()))
                for stack, weight in live.items():
                    pick -= weight
                    if pick <= 0:
                        return stack
                return next(iter(live))
        return next((s for s in self.nearest[users_of] if self.healthy(s)), None)


class Resolver:
    """A client's resolver: keeps each answer for the TTL."""

    def __init__(self, table: DnsTable, users_of: str, seed: int):
        self.table = table
        self.users_of = users_of
        self.rng = random.Random(seed)
        self._answer: Optional[str] = None
        self._until = 0.0

    def resolve(self) -> Optional[str]:
        now = time.monotonic()
        if self._answer is None or now >= self._until:
            self._answer = self.table.answer(self.users_of, self.rng)
            self._until = now + self.table.ttl_seconds
        return self._answer
