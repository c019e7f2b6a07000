"""The reference application of one region: what an application team reads to learn the contract.

- **Configuration** comes from the region's app contract (`infra/domain/app_contract.py`: the
  stack outputs `dbAppEndpoint`, `dbPort`, `cacheConfigurationEndpoint`, `cachePort`,
  `routingTableVersion`, ...) plus the credentials its secret holds; nothing else.
- **Reads** go to the region's own pool (`hse`: the region's replica, or its writer in the
  primary region), and to the primary while the replica does not answer (restarting,
  rebuilt); **writes** go through the same pool to the primary (`hse_rw`), which the
  failover controller repoints, so the application never learns where the writer is.
- **Tenant isolation** is set per transaction: `set_config('app.tenant_id', <uuid>, true)`
  (`SET LOCAL`), so a pooled server connection never carries a tenant into the next
  transaction; row-level security (`db/migrations/0001_tenant_isolation.sql`) does the rest.
- **The serving region** of a request is resolved with `resolver/region_resolver.py` from
  its CDN headers and the tenant's preference (`X-HSE-Resolved-Region`).
- **Health** (the spec's endpoints): `/api/health` is 200 only when the application, its
  database and its Redis all answer within the spec's time (`HEALTH_SECONDS`);
  `/api/health/database`, `/api/health/redis`; `/api/health/failover` and
  `/api/regions/status` read the failover state store (`infra.ops.state.StateReader`).

Endpoints of the example workload: `POST /api/incidents` `{"tenant", "writeId"}` answers 201
with the row's id, the instance that committed it (`writer`, its `cluster_name`) and the commit
time; `GET /api/incidents?tenant=<name>` answers the tenant's latest rows, read from the
region's replica.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, urlparse

import psycopg
import redis

from infra.domain.app_contract import AppContract
from infra.ops.state import StateReader
from resolver.region_resolver import Resolver

HEALTH_SECONDS = 10
"""The spec: a region is healthy when its endpoint answers 200 within 10 seconds."""
READ_DB, WRITE_DB = "hse", "hse_rw"
"""The pool's two databases: the region's own instance, and the primary."""


@dataclass(frozen=True)
class AppConfig:
    contract: AppContract
    db_user: str
    db_password: str
    routing_table: dict
    tenants: dict[str, str]
    """Tenant name -> its id (uuid)."""
    state: StateReader
    tenant_regions: dict[str, str] = field(default_factory=dict)
    """Tenant name -> its preferred region (the resolver's tenant preference)."""
    timeout_seconds: float = HEALTH_SECONDS


class _Connections:
    """A few open connections to one database of the pool (closed, never reused, after an error)."""

    def __init__(self, dsn: str, timeout: float):
        self.dsn = dsn
        self.timeout = timeout
        self.idle: "queue.SimpleQueue[psycopg.Connection]" = queue.SimpleQueue()

    def run(self, tenant: Optional[str], sql: str, params: tuple = ()) -> list[tuple]:
        try:
            conn = self.idle.get_nowait()
        except queue.Empty:
            conn = psycopg.connect(self.dsn, connect_timeout=max(1, int(self.timeout)), prepare_threshold=None)
        try:
            with conn.transaction():
                if tenant is not None:
                    conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
                cur = conn.execute(sql, params)
                rows = cur.fetchall() if cur.description else []
        except BaseException:
            conn.close()
            raise
        self.idle.put(conn)
        return rows

    def close(self) -> None:
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away before its answer (a health probe that timed out) is not the app's error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ReferenceApp:
    """One region's application: an HTTP server on loopback, started and stopped by its owner."""

    def __init__(self, config: AppConfig, port: int):
        self.config = config
        self.port = port
        c = config.contract
        base = (f"host={c.db_app_endpoint} port={c.db_port} user={config.db_user} "
                f"password={config.db_password} dbname=")
        self.reads = _Connections(base + READ_DB, config.timeout_seconds)
        self.writes = _Connections(base + WRITE_DB, config.timeout_seconds)
        self.resolver = Resolver(config.routing_table)
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def stack(self) -> str:
        return self.config.contract.stack

    # -- the endpoints' work ------------------------------------------------------------
    def _read(self, tenant: Optional[str], sql: str) -> tuple[list[tuple], str]:
        """Rows from the region's own instance or, while it does not answer (restarting, rebuilt),
        from the primary through the same pool; and which of the two answered."""
        try:
            return self.reads.run(tenant, sql), "replica"
        except psycopg.OperationalError:
            return self.writes.run(tenant, sql), "primary"

    def database_status(self) -> dict[str, Any]:
        try:
            rows, via = self._read(None, "SELECT current_setting('cluster_name'), pg_is_in_recovery()")
        except psycopg.Error as exc:
            return {"ok": False, "error": type(exc).__name__}
        node, recovery = rows[0]
        return {"ok": True, "instance": node, "readOnly": bool(recovery), "via": via}

    def redis_status(self) -> dict[str, Any]:
        c = self.config.contract
        client = redis.Redis(host=c.cache_configuration_endpoint, port=c.cache_port,
                             socket_timeout=self.config.timeout_seconds,
                             socket_connect_timeout=self.config.timeout_seconds)
        try:
            client.ping()
            return {"ok": True}
        except redis.RedisError as exc:
            return {"ok": False, "error": type(exc).__name__}
        finally:
            client.close()

    def health(self) -> tuple[int, dict[str, Any]]:
        started = time.monotonic()
        database, cache = self.database_status(), self.redis_status()
        within = time.monotonic() - started < self.config.timeout_seconds
        ok = database["ok"] and cache["ok"] and within
        return (200 if ok else 503), {"status": "ok" if ok else "unhealthy", "region": self.stack,
                                      "database": database["ok"], "redis": cache["ok"]}

    def write(self, tenant: str, write_id: str) -> dict[str, Any]:
        tenant_id = self.config.tenants[tenant]
        row_id, committed, writer = self.writes.run(
            tenant_id, "INSERT INTO app.incidents (tenant_id, title, severity) VALUES (%s, %s, 3) "
                       "RETURNING id, extract(epoch FROM clock_timestamp())::float8, current_setting('cluster_name')",
            (tenant_id, write_id))[0]
        return {"writeId": write_id, "id": row_id, "writer": writer, "committedAt": committed}

    def read(self, tenant: str) -> dict[str, Any]:
        tenant_id = self.config.tenants[tenant]
        rows, _ = self._read(tenant_id, "SELECT tenant_id::text, title, current_setting('cluster_name') "
                                        "FROM app.incidents ORDER BY id DESC LIMIT 20")
        return {"tenant": tenant_id, "rows": [{"tenantId": t, "title": title} for t, title, _ in rows],
                "servedBy": rows[0][2] if rows else self.stack}

    # -- serving ------------------------------------------------------------------------
    def start(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: the drill prints its own timeline
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-HSE-Region", app.stack)
                tenant = parse_qs(urlparse(self.path).query).get("tenant", [""])[0]
                resolved = app.resolver.resolve(dict(self.headers), app.config.tenant_regions.get(tenant))
                self.send_header("X-HSE-Resolved-Region", resolved or "")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                try:
                    if url.path == "/api/health":
                        self._answer(*app.health())
                    elif url.path == "/api/health/database":
                        status = app.database_status()
                        self._answer(200 if status["ok"] else 503, status)
                    elif url.path == "/api/health/redis":
                        status = app.redis_status()
                        self._answer(200 if status["ok"] else 503, status)
                    elif url.path == "/api/health/failover":
                        self._answer(200, app.config.state.failover_status())
                    elif url.path == "/api/regions/status":
                        self._answer(200, app.config.state.regions_status())
                    elif url.path == "/api/incidents":
                        tenant = parse_qs(url.query).get("tenant", [""])[0]
                        if tenant not in app.config.tenants:
                            self._answer(404, {"error": f"unknown tenant {tenant!r}"})
                        else:
                            self._answer(200, app.read(tenant))
                    else:
                        self._answer(404, {"error": "not found"})
                except psycopg.Error as exc:
                    self._answer(503, {"error": f"database: {type(exc).__name__}"})

            def do_POST(self) -> None:
                if urlparse(self.path).path != "/api/incidents":
                    self._answer(404, {"error": "not found"})
                    return
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                    tenant, write_id = body["tenant"], str(body["writeId"])
                except (ValueError, KeyError, TypeError):
                    self._answer(400, {"error": "expected {\"tenant\": ..., \"writeId\": ...}"})
                    return
                if tenant not in app.config.tenants:
                    self._answer(404, {"error": f"unknown tenant {tenant!r}"})
                    return
                try:
                    self._answer(201, app.write(tenant, write_id))
                except psycopg.Error as exc:
                    self._answer(503, {"error": f"database: {type(exc).__name__}"})

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"app:{self.stack}", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        """Stop serving at once (the region's application is lost or restarted)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.reads.close()
        self.writes.close()
