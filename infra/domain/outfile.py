"""One way to write what a command was asked to write (`--json FILE`, `--markdown FILE`,
`--sarif FILE`, drill results), so that no output flag ever destroys what it names.

- `-` is standard output, never a file named `-`;
- an existing symlink, device or pipe is written *through* (`/dev/stdout`, a link into a
  shared folder): replacing it with a regular file would break whoever made it;
- a regular file (or a new one) is written to a temporary file beside it and renamed over
  it, so a reader never sees half of it and an error leaves the old one whole.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import TextIO

STDOUT = "-"


class OutputError(Exception):
    """The output cannot be written there: a one-line reason (the caller names the flag)."""


def write_text(path: Path | str, text: str, *, stdout: TextIO | None = None) -> str:
    """Write `text` to `path` as the module docstring says; returns where it went."""
    if str(path) == STDOUT:
        stream = stdout or sys.stdout
        stream.write(text)
        stream.flush()
        return "standard output"
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {path}: it is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        # A symlink, device or pipe: write through it, never replace it.
        try:
            with open(path, "w") as handle:
                handle.write(text)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return str(path)
    tmp_name = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(text)
        if mode is not None:
            os.chmod(tmp_name, stat.S_IMODE(mode))
        os.replace(tmp_name, path)
    except OSError as exc:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return str(path)


def check_target(path: Path | str) -> None:
    """Refuse, before any work is done, a target `write_text` could not write: a folder,
    a parent that is a file, or a parent folder that exists but is not writable."""
    if str(path) == STDOUT:
        return
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    parent = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: {parent} is not writable")
