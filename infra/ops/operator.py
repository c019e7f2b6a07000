"""What the failover controller and the failback share: the platform they act on and the
helpers that read and change it, made by a backend (`infra.ops.backend`: AWS by default)."""

from __future__ import annotations

from typing import Callable, Optional

from infra.ops.backend import AwsBackend, Backend
from infra.ops.clock import Clock
from infra.domain.platform import Platform, RegionRecord
from infra.ops.hpa import AutoscalingApi
from infra.ops.state import StateStore


class Operator:
    """The state store, the clock, the platform's topology, and one helper per concern."""

    def __init__(self, clients, store: StateStore, clock: Clock, platform: Optional[Platform] = None,
                 hpa_api: Optional[Callable[[RegionRecord], AutoscalingApi]] = None,
                 backend: Optional[Backend] = None):
        self.clients = clients
        self.store = store
        self.clock = clock
        self.platform = platform or store.platform()
        helpers = (backend or AwsBackend(clients, hpa_api)).bind(self.platform, store, clock)
        self.health = helpers.health
        self.database = helpers.database
        self.cache = helpers.cache
        self.capacity = helpers.capacity
        self.traffic = helpers.traffic
        self.notifier = helpers.notifier
