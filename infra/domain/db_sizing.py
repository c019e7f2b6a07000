"""Database sizing: the instance classes each engine takes, their connection limits, and
the RDS Proxy pool the spec asks for (20 connections per application instance).

PostgreSQL on RDS and Aurora defaults `max_connections` to
`LEAST({DBInstanceClassMemory/9531392}, 5000)`; `DBInstanceClassMemory` is the class's
memory less what RDS reserves for the operating system and its own processes, so the
figures below are the defaults AWS documents per class for Aurora PostgreSQL, not
memory / 9 MiB. Classes AWS's table does not list yet (r6i, r7g) carry the figure of the
documented class with the same memory; RDS for PostgreSQL publishes no table, so its
8 GiB classes carry the formula's estimate. `SHOW max_connections` on a running
instance is the final word; a difference only moves the proxy's percentage.

Aurora global databases take memory-optimised classes only: the API rejects burstable
(db.t*) classes for global database members.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AURORA = "aurora-postgresql"
RDS = "rds-postgres"
ENGINES = (AURORA, RDS)


@dataclass(frozen=True)
class InstanceClass:
    name: str
    memory_gib: int
    max_connections: int
    """The default `max_connections` of PostgreSQL on this class."""
    engines: tuple[str, ...]
    """Engines that run on the class (Aurora global databases take no burstable class)."""


_CLASSES = (
    InstanceClass("db.r6g.large", 16, 1_722, ENGINES),
    InstanceClass("db.r6g.xlarge", 32, 3_479, ENGINES),
    InstanceClass("db.r6g.2xlarge", 64, 5_000, ENGINES),
    InstanceClass("db.r6g.4xlarge", 128, 5_000, ENGINES),
    InstanceClass("db.r6i.large", 16, 1_722, ENGINES),
    InstanceClass("db.r6i.xlarge", 32, 3_479, ENGINES),
    InstanceClass("db.r7g.large", 16, 1_722, ENGINES),
    InstanceClass("db.r7g.xlarge", 32, 3_479, ENGINES),
    InstanceClass("db.r7g.2xlarge", 64, 5_000, ENGINES),
    InstanceClass("db.m6g.large", 8, 850, (RDS,)),
    InstanceClass("db.m7g.large", 8, 850, (RDS,)),
    InstanceClass("db.t4g.medium", 4, 405, (RDS,)),
)
INSTANCE_CLASSES: dict[str, InstanceClass] = {c.name: c for c in _CLASSES}


def classes_for(engine: str) -> list[str]:
    return [c.name for c in _CLASSES if engine in c.engines]


def pool_size(connections_per_instance: int, app_instances: int) -> int:
    """The connections the region's application may hold through the proxy."""
    return connections_per_instance * app_instances


# Share of the Aurora writer's connections that write forwarding may take
# (apg_write_forward.max_forwarding_connections_percent, set by the program).
WRITE_FORWARDING_PERCENT = 25


def forwarding_reserve(db) -> int:  # noqa: ANN001 - a DatabaseConfig; no import cycle
    """What write forwarding holds back on the writer, in percent of max_connections."""
    return WRITE_FORWARDING_PERCENT if db.write_forwarding else 0


def max_connections_percent(pool: int, instance_class: str, reserved_percent: int = 0) -> int:
    """The proxy's `max_connections_percent`: the pool as a share of the database's
    `max_connections`, rounded up, so the proxy can open the whole pool.

    `reserved_percent` is what another consumer holds back on the same instance (the
    write-forwarding connections on an Aurora writer). Raises ValueError when the pool
    does not fit in what is left.
    """
    limit = INSTANCE_CLASSES[instance_class].max_connections
    percent = max(1, math.ceil(100 * pool / limit))
    available = 100 - reserved_percent
    if percent > available:
        raise ValueError(f"a pool of {pool} connections needs {percent}% of {instance_class}'s "
                         f"{limit} connections, but only {available}% are available")
    return percent
