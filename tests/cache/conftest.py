"""A real redis-server for the tenant-namespace tests: one per session on loopback
(pytest-redis starts it), with the ACL users built by `infra/domain/cache_acl.py`.

The suite talks to it as `harness`, a user of its own with every right; the `default`
user is switched off exactly as in ElastiCache, and each tenant gets the same rules its
ElastiCache access string has. Nothing is skipped: a missing redis-server fails the
session with what to install (`scripts/test-services.sh` installs it).
"""

from __future__ import annotations

import shutil
from typing import Iterator

import pytest
import redis
from pytest_redis import factories

from infra.domain.cache_acl import DEFAULT_USER_RULES, tenant_rules

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
TENANTS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell")
HARNESS = ("harness", "harness-password-for-tests")

redis_server = factories.redis_proc(executable=REDIS_SERVER, host="127.0.0.1", port=None)


def password_of(tenant: str) -> str:
    return f"{tenant}-password-0123456789"


@pytest.fixture(scope="session")
def acl_server(redis_server) -> Iterator[dict]:
    """The server with the harness, the tenants and the default user as ElastiCache has them."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run scripts/test-services.sh (make test does)")
    admin = redis.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    admin.execute_command("ACL", "SETUSER", HARNESS[0], "on", f">{HARNESS[1]}", "~*", "&*", "+@all")
    for tenant in TENANTS:
        admin.execute_command("ACL", "SETUSER", f"tenant-{tenant}", "reset", f">{password_of(tenant)}",
                              *tenant_rules(tenant))
    # Last: the connection doing all this is the default user's own.
    admin.execute_command("ACL", "SETUSER", "default", "reset", *DEFAULT_USER_RULES)
    admin.close()
    yield {"host": redis_server.host, "port": redis_server.port}


@pytest.fixture(scope="session")
def harness(acl_server) -> Iterator[redis.Redis]:
    client = redis.Redis(host=acl_server["host"], port=acl_server["port"], username=HARNESS[0],
                         password=HARNESS[1], decode_responses=True)
    yield client
    client.close()


def tenant_client(server: dict, tenant: str) -> redis.Redis:
    return redis.Redis(host=server["host"], port=server["port"], username=f"tenant-{tenant}",
                       password=password_of(tenant), decode_responses=True)
