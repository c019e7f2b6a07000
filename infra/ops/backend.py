"""Where the operational code acts: the backend it is given.

The controller (`infra.ops.failover`) and the failback (`infra.ops.failback`) decide
everything themselves (detection, candidate choice, hold-down, gates, the order of the
steps); a backend only carries the steps out. It hands them one helper per concern:

| helper | what it does | AWS (`AwsBackend`) |
|---|---|---|
| `health` | region health, replication lag | `infra.ops.health.HealthReader` |
| `database` | promote, fence, switch over, who writes, is replication re-established | `infra.ops.database.Database` |
| `cache` | the Global Datastore's primary | `infra.ops.cache.Cache` |
| `capacity` | scale a region to a number of app instances | `infra.ops.capacity.Capacity` |
| `traffic` | hold, shift and release a region's users (DNS) | `infra.ops.traffic.Traffic` |
| `notifier` | tell people and dashboards | `infra.ops.notify.Notifier` |

`AwsBackend` is today's boto3 code; the local drill (`infra/local/`) brings its own
backend, with the same methods, on real PostgreSQL, PgBouncer and redis-server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from infra.domain.platform import Platform, RegionRecord
from infra.ops.cache import Cache
from infra.ops.capacity import Capacity
from infra.ops.clock import Clock
from infra.ops.database import Database
from infra.ops.health import HealthReader
from infra.ops.hpa import AutoscalingApi
from infra.ops.notify import Notifier
from infra.ops.state import StateStore
from infra.ops.traffic import Traffic


@dataclass(frozen=True)
class Helpers:
    """One helper per concern, bound to a platform, a state store and a clock."""

    health: Any
    database: Any
    cache: Any
    capacity: Any
    traffic: Any
    notifier: Any


class Backend:
    """Makes the helpers the operational code acts through."""

    def bind(self, platform: Platform, store: StateStore, clock: Clock) -> Helpers:  # pragma: no cover - interface
        raise NotImplementedError


class AwsBackend(Backend):
    """AWS through boto3 clients (`infra.ops.clients.Clients`)."""

    def __init__(self, clients, hpa_api: Optional[Callable[[RegionRecord], AutoscalingApi]] = None):
        self.clients = clients
        self.hpa_api = hpa_api

    def bind(self, platform: Platform, store: StateStore, clock: Clock) -> Helpers:
        c = self.clients
        return Helpers(HealthReader(c, clock), Database(c, platform, clock), Cache(c),
                       Capacity(c, store, self.hpa_api), Traffic(c), Notifier(c, clock))
