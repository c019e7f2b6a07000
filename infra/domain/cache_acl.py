"""Per-tenant Redis namespaces as ACL rules, built once.

The same rules become ElastiCache access strings (`components/redis_cluster.py`) and
are loaded into a real redis-server by the tests, so what is tested is what deploys.

A tenant's user may touch only keys and channels under `tenant:<id>:`. It may use the
data commands, never the `@dangerous` category (FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG,
ACL, INFO, MONITOR, SORT, ...), administration or scripting, and none of the commands
that reveal other tenants' key names or counts without naming a key: SCAN (its MATCH is
a filter on the results, not a permission), RANDOMKEY and DBSIZE. The `default` user that
every ElastiCache user group contains is switched off with no keys and no commands.
"""

from __future__ import annotations

import re

# A tenant id becomes part of a key pattern: no glob characters, separators or spaces.
TENANT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$")
TENANT_ID_RULE = "1 to 20 lowercase letters, digits and inner hyphens (no glob characters, colons or spaces)"

# Commands that read the keyspace without naming a key, so key patterns cannot limit them.
KEYSPACE_WIDE = ("scan", "randomkey", "dbsize")
DENIED_CATEGORIES = ("@dangerous", "@admin", "@scripting")


def key_prefix(tenant: str) -> str:
    """Every key and channel of the tenant starts with this."""
    return f"tenant:{tenant}:"


def tenant_rules(tenant: str) -> list[str]:
    """The ACL rules of a tenant's application user, password not included."""
    if not TENANT_ID.match(tenant):
        raise ValueError(f"{tenant!r} cannot be a key prefix; a tenant id is {TENANT_ID_RULE}")
    prefix = key_prefix(tenant)
    return ["on", f"~{prefix}*", f"&{prefix}*", "+@all",
            *(f"-{category}" for category in DENIED_CATEGORIES),
            *(f"-{command}" for command in KEYSPACE_WIDE)]


# The default user: off, no key patterns, no channels, no commands.
DEFAULT_USER_RULES = ["off", "-@all"]


def access_string(rules: list[str]) -> str:
    """Rules as one ElastiCache access string."""
    return " ".join(rules)
