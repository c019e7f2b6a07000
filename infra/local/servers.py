"""The servers of the local platform, each a process this program starts and stops itself.

- `Postgres`: one PostgreSQL instance (a region's primary or streaming standby): `initdb`,
  `pg_basebackup` with a replication slot, `pg_promote`, `pg_rewind`, and the fence (its
  `pg_hba.conf` rejects every TCP connection, as the AWS fence leaves the old writer only a
  security group that admits nothing). WAL goes to the region's archive (`archive_command`).
- `Pool`: PgBouncer in front of a region's instance: `hse` reads the region's own instance,
  `hse_rw` writes to the current primary; repointing rewrites the file and reloads.
- `Redis`: a redis-server without persistence.

PostgreSQL and PgBouncer refuse to run as root; when this program is root they run as the
`postgres` user. Every process gets its own process group and is listed in `Processes`,
which kills what is left on any exit path (`stop_all`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import psycopg

SUPERUSER = "postgres"
REPLICATOR = ("replicator", "replicator-local-password")
APP_LOGIN = ("app_login", "app-login-local-password")
DATABASE = "hse"
READ_DB, WRITE_DB = "hse", "hse_rw"
START_SECONDS = 30.0


class ServerError(Exception):
    """A server did not start or a command failed: one line naming it, its log's tail."""


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise ServerError(f"{name} is not installed: run scripts/test-services.sh (make drill-local does)")
    return path


def server_binary(name: str, fallback: str) -> str:
    """A server's executable from Debian's package; ServerError saying how to install it when absent."""
    path = shutil.which(name) or (fallback if os.access(fallback, os.X_OK) else None)
    if path is None:
        raise ServerError(f"{name} is not installed: run scripts/test-services.sh (make drill-local does)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user() -> dict:
    """Popen arguments that run a server as `postgres` when this process is root."""
    if os.geteuid() != 0:
        return {}
    return {"user": SUPERUSER, "group": SUPERUSER, "extra_groups": []}


def own(path: Path) -> Path:
    """Give `path` to the server user (when root); returns it."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SUPERUSER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def run(cmd: list[str], what: str, env: Optional[dict] = None, timeout: float = 120) -> str:
    """Run a command to its end as the server user; ServerError with its output when it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout,
                          cwd="/", **_as_server_user())
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ServerError(f"{what} failed (exit {done.returncode}): {' / '.join(tail)}")
    return done.stdout + done.stderr


@dataclass
class Processes:
    """Every process the platform started, by group: nothing survives `stop_all`."""

    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], log: Path) -> subprocess.Popen:
        with open(own_file(log), "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd="/", **_as_server_user())
        self.running[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL, wait: float = 15.0) -> None:
        proc = self.running.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=wait)
        # Whatever is left of the group (a clean stop's stragglers, children still exiting) goes too,
        # and the call returns only once none of it is left.
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.01)

    def alive(self, name: str) -> bool:
        proc = self.running.get(name)
        return proc is not None and proc.poll() is None

    def wait_listening(self, name: str, port: int, failure: str) -> None:
        """Return once `name` accepts connections on loopback `port`; ServerError(`failure`)
        when it dies or START_SECONDS pass first."""
        deadline = time.monotonic() + START_SECONDS
        while True:
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            if not self.alive(name) or time.monotonic() > deadline:
                raise ServerError(failure)
            time.sleep(0.05)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name)


def own_file(path: Path) -> Path:
    path.touch(exist_ok=True)
    return own(path)


def lsn(text: Optional[str]) -> int:
    """A pg_lsn ('16/B374D848') as a number (0 for none)."""
    if not text:
        return 0
    high, low = str(text).split("/")
    return (int(high, 16) << 32) + int(low, 16)


HBA_OPEN = """# the local platform: loopback only
local all all trust
local replication all trust
host replication {replicator} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
"""
HBA_FENCED = """# FENCED: this instance is not the primary any more; nothing reaches it over the network
local all all trust
local replication all trust
host all all 0.0.0.0/0 reject
host replication all 0.0.0.0/0 reject
"""


class Postgres:
    """One PostgreSQL instance of a region."""

    def __init__(self, stack: str, root: Path, processes: Processes, archive: Path):
        self.stack = stack
        self.root = root
        self.data = root / "data"
        self.socket_dir = root
        self.archive = archive
        self.log = root / "postgres.log"
        self.port = free_port()
        self.processes = processes
        self.name = f"postgres:{stack}"
        self.synchronous = ""
        """`synchronous_standby_names` from its next start ('' : asynchronous streaming)."""

    # -- connecting -------------------------------------------------------------------
    def admin_dsn(self, dbname: str = DATABASE) -> str:
        """The operator's console: the unix socket (never fenced), as the superuser."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def conninfo(self, standby: "Postgres") -> str:
        """How `standby` streams from this instance (TCP on loopback, the replication login, its own name)."""
        return (f"host=127.0.0.1 port={self.port} user={REPLICATOR[0]} password={REPLICATOR[1]} "
                f"application_name={standby.slot_name}")

    @property
    def slot_name(self) -> str:
        return "standby_" + "".join(c if c.isalnum() else "_" for c in self.stack.lower())

    def query(self, sql: str, params: tuple = (), dbname: str = DATABASE, timeout: float = 3) -> list[tuple]:
        with psycopg.connect(self.admin_dsn(dbname), autocommit=True, connect_timeout=max(1, int(timeout)),
                             prepare_threshold=None) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def running(self) -> bool:
        return self.processes.alive(self.name)

    # -- making -----------------------------------------------------------------------
    def init_primary(self) -> None:
        own(self.root)
        run([pg_bin("initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8"], f"initdb of {self.stack}")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# the local platform\n"
                "listen_addresses = '127.0.0.1'\n"
                "max_connections = 400\n"
                "shared_buffers = 16MB\n"
                "wal_level = replica\n"
                "wal_log_hints = on\n"                # pg_rewind needs it (or data checksums)
                "max_wal_senders = 16\n"
                "max_replication_slots = 16\n"
                "wal_keep_size = 256MB\n"
                "hot_standby = on\n"
                "hot_standby_feedback = on\n"
                "archive_mode = on\n"
                "synchronous_commit = on\n"
                "wal_sender_timeout = 5s\n"
                "wal_receiver_timeout = 5s\n"
                "wal_retrieve_retry_interval = 200ms\n"
                "checkpoint_timeout = 30min\n"
                "log_min_messages = warning\n")
        self.write_hba(fenced=False)

    def init_standby(self, source: "Postgres") -> None:
        own(self.root)
        source.query("SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                     "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)", (self.slot_name, self.slot_name))
        run([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(source.port), "-U", REPLICATOR[0],
             "-D", str(self.data), "-X", "stream", "-S", self.slot_name, "-c", "fast"],
            f"pg_basebackup of {self.stack} from {source.stack}", env={"PGPASSWORD": REPLICATOR[1]})
        self.write_hba(fenced=False)
        self.follow_file(source)

    def follow_file(self, source: "Postgres") -> None:
        """Make the (stopped) instance a standby of `source`: standby.signal and where to stream from."""
        (self.data / "standby.signal").touch()
        own(self.data / "standby.signal")
        auto = self.data / "postgresql.auto.conf"
        auto.write_text("# written by the local platform\n"
                        f"primary_conninfo = '{source.conninfo(self)}'\n"
                        f"primary_slot_name = '{self.slot_name}'\n"
                        "recovery_target_timeline = 'latest'\n")
        own(auto)

    def write_hba(self, fenced: bool) -> None:
        hba = self.data / "pg_hba.conf"
        hba.write_text(HBA_FENCED if fenced else HBA_OPEN.format(replicator=REPLICATOR[0]))
        own(hba)

    def fenced(self) -> bool:
        return (self.data / "pg_hba.conf").read_text().startswith("# FENCED")

    # -- running ----------------------------------------------------------------------
    def start(self) -> None:
        archive_command = f"test ! -f {self.archive}/%f && cp %p {self.archive}/%f"
        synchronous = ["-c", f"synchronous_standby_names={self.synchronous}"] if self.synchronous else []
        self.processes.start(self.name, [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
                                         "-k", str(self.socket_dir), "-c", f"cluster_name={self.stack}",
                                         "-c", f"archive_command={archive_command}", *synchronous], self.log)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self.query("SELECT 1", dbname="postgres", timeout=1)
                return
            except psycopg.Error:
                if not self.running() or time.monotonic() > deadline:
                    tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                    raise ServerError(f"PostgreSQL of {self.stack} did not start: {' / '.join(tail)}") from None
                time.sleep(0.05)

    def stop(self, hard: bool = False) -> None:
        """Stop: hard is the region lost (every process killed at once), else a fast, clean shutdown."""
        self.processes.kill(self.name, signal.SIGKILL if hard else signal.SIGINT, wait=30)

    def make_synchronous(self, names: str) -> None:
        """From now on a commit waits for a standby (`names`, e.g. 'FIRST 1 (a, b)'), here and at every start."""
        self.synchronous = names
        if self.running():
            self.query(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
            self.query("SELECT pg_reload_conf()")

    def in_recovery(self) -> bool:
        return bool(self.query("SELECT pg_is_in_recovery()")[0][0])

    def promote(self) -> None:
        ok = self.query("SELECT pg_promote(true, 30)", timeout=35)[0][0]
        if not ok:
            raise ServerError(f"pg_promote on {self.stack} did not finish in 30 s")

    def fence(self) -> str:
        """No client reaches this instance any more: the file first (it holds when the instance is
        down and starts later), then, when it runs, a reload and every client session ended."""
        self.write_hba(fenced=True)
        if not self.running():
            return f"{self.stack}'s instance is down: fenced before it can start again (pg_hba rejects all TCP)"
        try:
            self.query("SELECT pg_reload_conf()")
            self.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
        except psycopg.Error as exc:
            return f"{self.stack}: pg_hba rejects all TCP; reload failed ({type(exc).__name__}), holds at its start"
        return f"{self.stack}: pg_hba rejects all TCP (reloaded), client sessions ended"

    def rewind(self, source: "Postgres") -> str:
        """Bring this (stopped) former primary back onto `source`'s timeline; pg_rewind's last line.

        pg_rewind reads the source's timeline from its control file, which a promotion updates
        only at its next checkpoint: without one it sees one timeline and rewinds nothing."""
        source.query("CHECKPOINT", timeout=30)
        done = run([pg_bin("pg_rewind"), "-D", str(self.data), f"--source-server={source.admin_dsn('postgres')}",
                    "--progress"], f"pg_rewind of {self.stack} from {source.stack}")
        with open(self.log, "a") as log:
            log.write(done)
        verdicts = [line for line in done.splitlines() if "rewind required" in line or "Done!" in line]
        return verdicts[-1].removeprefix("pg_rewind: ").strip() if verdicts else "no verdict"

    def rebuild(self, source: "Postgres") -> None:
        """A new base backup from `source` (when rewinding is not possible)."""
        shutil.rmtree(self.data, ignore_errors=True)
        self.init_standby(source)

    def ensure_slot(self, standby: "Postgres") -> None:
        self.query("SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                   "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)", (standby.slot_name, standby.slot_name))

    def repoint(self, source: "Postgres") -> None:
        """A running standby streams from `source` from now on (primary_conninfo is reloadable)."""
        self.query(f"ALTER SYSTEM SET primary_conninfo = '{source.conninfo(self)}'")
        self.query(f"ALTER SYSTEM SET primary_slot_name = '{self.slot_name}'")
        self.query("SELECT pg_reload_conf()")

    def disconnect(self) -> None:
        """Stop streaming (a stalled replica): no primary to stream from until `repoint`."""
        self.query("ALTER SYSTEM SET primary_conninfo = ''")
        self.query("SELECT pg_reload_conf()")

    def replay_lsn(self) -> int:
        return lsn(self.query("SELECT pg_last_wal_replay_lsn()", timeout=1)[0][0])

    def current_lsn(self) -> int:
        return lsn(self.query("SELECT pg_current_wal_lsn()", timeout=1)[0][0])

    def streaming_from(self) -> Optional[int]:
        """The port of the instance this standby streams from now, or None."""
        rows = self.query("SELECT status, sender_port FROM pg_stat_wal_receiver", timeout=1)
        return int(rows[0][1]) if rows and rows[0][0] == "streaming" else None


class Pool:
    """PgBouncer in front of one region: `hse` its own instance, `hse_rw` the primary."""

    def __init__(self, stack: str, root: Path, processes: Processes, size: int):
        self.stack = stack
        self.root = root
        self.port = free_port()
        self.size = size
        self.processes = processes
        self.name = f"pgbouncer:{stack}"
        self.ini = root / "pgbouncer.ini"
        self.read_port = 0
        self.write_port = 0

    def configure(self, read_port: int, write_port: int) -> None:
        own(self.root)
        users = self.root / "userlist.txt"
        users.write_text(f'"{APP_LOGIN[0]}" "{APP_LOGIN[1]}"\n')
        own(users)
        self.read_port, self.write_port = read_port, write_port
        self.ini.write_text(
            "[databases]\n"
            f"{READ_DB} = host=127.0.0.1 port={read_port} dbname={DATABASE}\n"
            f"{WRITE_DB} = host=127.0.0.1 port={write_port} dbname={DATABASE}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = scram-sha-256\nauth_file = {users}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.size}\nmax_client_conn = 1000\n"
            "server_login_retry = 1\nserver_connect_timeout = 2\nquery_wait_timeout = 5\n"
            "server_check_delay = 0\nlogfile =\npidfile =\n")
        own(self.ini)

    def start(self) -> None:
        self.processes.start(self.name, [server_binary("pgbouncer", "/usr/sbin/pgbouncer"), str(self.ini)],
                             self.root / "pgbouncer.log")
        self.processes.wait_listening(self.name, self.port,
                                      f"PgBouncer of {self.stack} did not start: see {self.root / 'pgbouncer.log'}")

    def repoint(self, write_port: int) -> None:
        """Writes go to the instance on `write_port` from now on (the file, then a reload)."""
        self.configure(self.read_port, write_port)
        proc = self.processes.running.get(self.name)
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGHUP)

    def stop(self) -> None:
        self.processes.kill(self.name)


class Redis:
    def __init__(self, stack: str, root: Path, processes: Processes):
        self.stack = stack
        self.root = root
        self.port = free_port()
        self.processes = processes
        self.name = f"redis:{stack}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        own(self.root)
        self.processes.start(self.name, [server_binary("redis-server", "/usr/bin/redis-server"), "--port",
                                         str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                         "--dir", str(self.root)], self.root / "redis.log")
        self.processes.wait_listening(self.name, self.port, f"redis-server of {self.stack} did not start")

    def stop(self) -> None:
        self.processes.kill(self.name)
