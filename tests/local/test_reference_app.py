"""The reference application on the local platform: the spec's endpoints, reads from the
region's instance and writes to the primary with the tenant set per transaction, the serving
region resolved from the CDN's header, and health that follows its database and Redis."""

from __future__ import annotations

import http.client
import json
import shutil
import time
from pathlib import Path

import pytest

from infra.local.platform import LocalPlatform
from infra.local.servers import ServerError
from tests.local.conftest import survivors

ROOT = Path(__file__).resolve().parents[2]


def call(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read()), dict(answer.getheaders())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def local():
    platform = LocalPlatform(ROOT, clock_scale=60)
    with platform:
        yield platform
    assert survivors([platform.root]) == []


def test_health_endpoints_answer_as_the_spec_lists_them(local):
    east, west = local.region("us-east").app_port, local.region("eu-west").app_port
    assert call(east, "GET", "/api/health")[:2] == (200, {"status": "ok", "region": "us-east", "database": True,
                                                          "redis": True})
    assert call(east, "GET", "/api/health/database")[1] == {"ok": True, "instance": "us-east", "readOnly": False,
                                                            "via": "replica"}
    assert call(west, "GET", "/api/health/database")[1] == {"ok": True, "instance": "eu-west", "readOnly": True,
                                                            "via": "replica"}
    assert call(west, "GET", "/api/health/redis")[:2] == (200, {"ok": True})
    status, failover, _ = call(west, "GET", "/api/health/failover")
    assert (status, failover["mode"], failover["currentPrimary"]) == (200, "normal", "us-east")
    regions = call(west, "GET", "/api/regions/status")[1]
    assert [(r["stack"], r["role"], r["appInstances"]) for r in regions["regions"]] == [
        ("us-east", "primary", 5), ("eu-west", "secondary", 3), ("ap-se", "secondary", 3)]


def test_a_write_goes_to_the_primary_and_each_tenant_reads_only_its_rows(local):
    west = local.region("eu-west").app_port
    status, body, _ = call(west, "POST", "/api/incidents", {"tenant": "tenant-1", "writeId": "app-test-1"})
    assert (status, body["writer"], body["writeId"]) == (201, "us-east", "app-test-1")
    call(west, "POST", "/api/incidents", {"tenant": "tenant-2", "writeId": "app-test-2"})
    local.monitor.sample_lag()

    def rows(tenant: str) -> list[dict]:
        return call(west, "GET", f"/api/incidents?tenant={tenant}")[1]["rows"]

    assert local.region("eu-west").node.query("SELECT pg_is_in_recovery()")[0][0] is True
    for _ in range(100):  # the replica replays within milliseconds
        if rows("tenant-2"):
            break
    assert [r["title"] for r in rows("tenant-1")] == ["app-test-1"]
    assert [r["title"] for r in rows("tenant-2")] == ["app-test-2"]
    assert {r["tenantId"] for r in rows("tenant-1")} == {local.tenants["tenant-1"]}


def test_bad_requests_are_refused_plainly(local):
    west = local.region("eu-west").app_port
    assert call(west, "POST", "/api/incidents", {"tenant": "nobody", "writeId": "x"})[0] == 404
    assert call(west, "POST", "/api/incidents", {"writeId": "x"})[0] == 400
    assert call(west, "GET", "/api/incidents?tenant=nobody")[0] == 404
    assert call(west, "GET", "/api/nothing")[0] == 404


def test_the_serving_region_is_resolved_from_the_cdn_header(local):
    east = local.region("us-east").app_port
    headers = call(east, "GET", "/api/health", headers={"cloudfront-viewer-country": "DE"})[2]
    assert (headers["X-HSE-Region"], headers["X-HSE-Resolved-Region"]) == ("us-east", "eu-west")
    headers = call(east, "GET", "/api/health", headers={"cloudfront-viewer-country": "SG"})[2]
    assert headers["X-HSE-Resolved-Region"] == "ap-se"


def test_reads_fall_back_to_the_primary_while_the_replica_restarts(local):
    ap = local.region("ap-se")
    ap.node.stop()
    try:
        status, body, _ = call(ap.app_port, "GET", "/api/health/database")
        assert (status, body["instance"], body["via"]) == (200, "us-east", "primary")
        assert call(ap.app_port, "GET", "/api/incidents?tenant=tenant-1")[0] == 200
    finally:
        ap.node.start()
    deadline = time.monotonic() + 10  # PgBouncer retries a server it could not reach after 1 s
    while call(ap.app_port, "GET", "/api/health/database")[1]["via"] != "replica":
        assert time.monotonic() < deadline, "reads never went back to the region's own instance"
        time.sleep(0.1)


def test_health_fails_when_redis_does_not_answer_and_recovers_with_it(local):
    ap = local.region("ap-se")
    ap.redis.stop()
    try:
        status, body, _ = call(ap.app_port, "GET", "/api/health")
        assert (status, body["database"], body["redis"]) == (503, True, False)
    finally:
        ap.redis.start()
    assert call(ap.app_port, "GET", "/api/health")[0] == 200


def test_a_missing_server_package_is_one_line_before_anything_starts(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "pgbouncer" else real(name))
    monkeypatch.setattr("infra.local.servers.os.access", lambda path, mode: False)
    platform = LocalPlatform(ROOT)
    with pytest.raises(ServerError, match=r"^pgbouncer is not installed: run scripts/test-services.sh"):
        platform.__enter__()
    assert platform.root is None
