"""What the failover controller and the failback share: the platform they act on and the
helpers that read and change it through AWS."""

from __future__ import annotations

from typing import Callable, Optional

from infra.ops.cache import Cache
from infra.ops.capacity import Capacity
from infra.ops.clock import Clock
from infra.ops.database import Database
from infra.ops.health import HealthReader
from infra.ops.notify import Notifier
from infra.domain.platform import Platform, RegionRecord
from infra.ops.hpa import AutoscalingApi
from infra.ops.state import StateStore
from infra.ops.traffic import Traffic


class Operator:
    """The state store, the clock, the platform's topology, and one helper per concern."""

    def __init__(self, clients, store: StateStore, clock: Clock, platform: Optional[Platform] = None,
                 hpa_api: Optional[Callable[[RegionRecord], AutoscalingApi]] = None):
        self.clients = clients
        self.store = store
        self.clock = clock
        self.platform = platform or store.platform()
        self.health = HealthReader(clients, clock)
        self.database = Database(clients, self.platform, clock)
        self.cache = Cache(clients)
        self.capacity = Capacity(clients, store, hpa_api)
        self.traffic = Traffic(clients)
        self.notifier = Notifier(clients, clock)
