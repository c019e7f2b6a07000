"""The local drill's tests run it for real: PostgreSQL, PgBouncer, redis-server and the
reference app on loopback, started and stopped by the drill's own code (`infra/local/`),
never by a second copy of it here. Nothing is skipped: a missing server fails the run with
what to install (`scripts/test-services.sh` installs it)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from infra.cli import main as cli
from infra.local.platform import LocalPlatform

CLOCK = "60"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--no-color", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def survivors(roots: list[Path]) -> list[str]:
    """Processes whose command line or working folder lies under one of `roots`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited, waiting to be reaped: nothing runs
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if any(str(root) in cmdline or cwd.startswith(str(root)) for root in roots):
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


@pytest.fixture
def roots(monkeypatch) -> Iterator[list[Path]]:
    """The folders of every platform brought up during a test (to look for survivors in)."""
    made: list[Path] = []
    up = LocalPlatform.up

    def recording(self: LocalPlatform) -> None:
        try:
            up(self)
        finally:
            if self.root is not None:
                made.append(self.root)

    monkeypatch.setattr(LocalPlatform, "up", recording)
    yield made


@pytest.fixture
def drill(tmp_path, roots) -> Callable[..., tuple[int, dict, str]]:
    """Run `drill --local` with the drill clock; (exit code, drill.json, what it printed)."""
    def run(*scenarios: str) -> tuple[int, dict, str]:
        target = tmp_path / "drill.json"
        args = ["drill", "--local", "--clock-scale", CLOCK, "--json", str(target)]
        for name in scenarios:
            args += ["--scenario", name]
        code, out, err = run_cli(*args)
        assert err == "", err
        assert survivors(roots) == []
        return code, json.loads(target.read_text()), out
    return run


def scenario(data: dict, name: str) -> dict:
    return next(s for s in data["local"]["scenarios"] if s["name"] == name)


def failed(data: dict, name: str) -> list[str]:
    return [c["what"] for c in scenario(data, name)["checks"] if not c["ok"]]
