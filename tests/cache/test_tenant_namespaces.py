"""Per-tenant Redis namespaces on a real redis-server, with the ACL rules ElastiCache gets."""

from __future__ import annotations

import random
import threading

import pytest
import redis
import redis.backoff
import redis.retry

from infra.domain.cache_acl import key_prefix
from tests.cache.conftest import TENANTS, password_of, tenant_client

# A refused login must fail at once, not after the client's retries.
NO_RETRY = redis.retry.Retry(redis.backoff.NoBackoff(), 0)

DENIED = [
    ("FLUSHALL",), ("FLUSHDB",), ("KEYS", "*"), ("CONFIG", "GET", "*"), ("CONFIG", "SET", "maxmemory", "1"),
    ("DEBUG", "SLEEP", "0"), ("ACL", "LIST"), ("ACL", "SETUSER", "tenant-acme", "~*"), ("ACL", "GETUSER", "default"),
    ("INFO",), ("SCAN", "0"), ("SCAN", "0", "MATCH", "tenant:globex:*"), ("RANDOMKEY",), ("DBSIZE",),
    ("SORT", "tenant:acme:list", "BY", "tenant:globex:*"), ("EVAL", "return 1", "0"),
    ("FUNCTION", "LIST"), ("CLIENT", "LIST"), ("CLIENT", "KILL", "ID", "1"), ("SWAPDB", "0", "1"),
    ("SHUTDOWN",), ("SLOWLOG", "GET"), ("MIGRATE", "127.0.0.1", "1", "tenant:acme:k", "0", "1"),
    ("SAVE",), ("BGSAVE",), ("REPLICAOF", "NO", "ONE"), ("MONITOR",),
]


@pytest.fixture(scope="module")
def seeded(acl_server, harness) -> dict:
    for tenant in TENANTS:
        harness.set(f"{key_prefix(tenant)}profile", f"secret of {tenant}")
        harness.rpush(f"{key_prefix(tenant)}list", "a", "b")
    return acl_server


def test_a_tenant_uses_its_own_namespace(seeded) -> None:
    client = tenant_client(seeded, "acme")
    assert client.get("tenant:acme:profile") == "secret of acme"
    assert client.set("tenant:acme:session:1", "ok", ex=60) is True
    assert client.incr("tenant:acme:counter") >= 1
    assert client.delete("tenant:acme:session:1") == 1
    assert client.publish("tenant:acme:events", "hello") == 0


@pytest.mark.parametrize("command", [
    ("GET", "tenant:globex:profile"), ("SET", "tenant:globex:profile", "overwritten"),
    ("DEL", "tenant:globex:profile"), ("EXISTS", "tenant:globex:profile"), ("TYPE", "tenant:globex:profile"),
    ("LRANGE", "tenant:globex:list", "0", "-1"), ("RENAME", "tenant:acme:list", "tenant:globex:stolen"),
    ("COPY", "tenant:globex:profile", "tenant:acme:copy"), ("GET", "tenant:acmex:profile"),
    ("GET", "tenant:acme"), ("GET", "profile"), ("PUBLISH", "tenant:globex:events", "x"),
])
def test_a_tenant_cannot_touch_keys_or_channels_outside_its_namespace(seeded, harness, command) -> None:
    client = tenant_client(seeded, "acme")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.execute_command(*command)
    assert harness.get("tenant:globex:profile") == "secret of globex"


@pytest.mark.parametrize("command", DENIED, ids=[" ".join(c[:2]) for c in DENIED])
def test_dangerous_and_keyspace_wide_commands_are_denied(seeded, harness, command) -> None:
    # The ACL's own verdict, then the real call.
    verdict = harness.execute_command("ACL", "DRYRUN", "tenant-acme", *command)
    assert verdict.startswith("This user has no permissions to run the"), verdict
    client = tenant_client(seeded, "acme")
    # DEBUG is also off in this server's build config, which answers before the ACL does.
    expected = redis.exceptions.ResponseError if command[0] == "DEBUG" else redis.exceptions.NoPermissionError
    with pytest.raises(expected):
        client.execute_command(*command)


def test_subscriptions_are_limited_to_the_namespace(seeded) -> None:
    client = tenant_client(seeded, "acme")
    own = client.pubsub()
    own.subscribe("tenant:acme:events")
    own.psubscribe("tenant:acme:*")
    own.close()
    for method, channel in (("subscribe", "tenant:globex:events"), ("psubscribe", "tenant:*"),
                            ("psubscribe", "tenant:globex:*"), ("psubscribe", "*")):
        other = client.pubsub()
        with pytest.raises(redis.exceptions.NoPermissionError):
            getattr(other, method)(channel)
            other.get_message(timeout=1)
        other.close()


def test_the_default_user_cannot_connect(seeded) -> None:
    anonymous = redis.Redis(host=seeded["host"], port=seeded["port"], retry=NO_RETRY)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()
    for password in ("", "default", "nopass"):
        attempt = redis.Redis(host=seeded["host"], port=seeded["port"], username="default",
                              password=password or None, retry=NO_RETRY)
        with pytest.raises((redis.exceptions.AuthenticationError, redis.exceptions.ResponseError)):
            attempt.ping()


def test_a_wrong_password_is_refused(seeded) -> None:
    wrong = redis.Redis(host=seeded["host"], port=seeded["port"], username="tenant-acme",
                        password=password_of("globex"), retry=NO_RETRY)
    with pytest.raises(redis.exceptions.AuthenticationError):
        wrong.ping()


def test_many_tenants_concurrently_never_read_each_other(seeded) -> None:
    """Threads per tenant write and read their own keys and probe others'; no probe may succeed."""
    rounds, threads_per_tenant = 300, 2
    totals = {"operations": 0, "own_reads": 0, "cross_tenant_attempts": 0, "cross_tenant_reads": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(tenant: str, seed: int) -> None:
        rng = random.Random(seed)
        client = tenant_client(seeded, tenant)
        counts = dict.fromkeys(totals, 0)
        try:
            for i in range(rounds):
                key = f"{key_prefix(tenant)}item:{seed}:{i % 20}"
                client.set(key, f"{tenant}:{i}")
                value = client.get(key)
                counts["operations"] += 2
                if value is None or not value.startswith(f"{tenant}:"):
                    errors.append(AssertionError(f"{tenant} read {value!r} from its own key"))
                counts["own_reads"] += 1
                other = rng.choice([t for t in TENANTS if t != tenant])
                counts["cross_tenant_attempts"] += 1
                counts["operations"] += 1
                try:
                    client.get(f"{key_prefix(other)}item:{seed}:{i % 20}")
                    counts["cross_tenant_reads"] += 1
                except redis.exceptions.NoPermissionError:
                    pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            client.close()
        with lock:
            for k, v in counts.items():
                totals[k] += v

    pool = [threading.Thread(target=worker, args=(tenant, n)) for tenant in TENANTS for n in range(threads_per_tenant)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    print(f"\nRedis namespaces: {len(pool)} clients of {len(TENANTS)} tenants, {totals['operations']} operations, "
          f"{totals['cross_tenant_attempts']} cross-tenant reads tried, {totals['cross_tenant_reads']} succeeded")
    assert errors == []
    assert totals["own_reads"] == len(pool) * rounds
    assert totals["cross_tenant_attempts"] == len(pool) * rounds and totals["cross_tenant_reads"] == 0
