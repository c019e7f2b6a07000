"""Reading a JSON file given on a command line: one place that tells an unreadable file
from one that is not JSON, so each command can say which in its own words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonFileError(Exception):
    """`cause` is the OSError (`unreadable`) or the ValueError (not JSON) behind it."""

    def __init__(self, path: Path, cause: Exception):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause
        self.unreadable = isinstance(cause, OSError)
        self.missing = isinstance(cause, FileNotFoundError)

    @property
    def reason(self) -> str:
        """The OS's words for an unreadable file, the parser's for a file that is not JSON."""
        return (getattr(self.cause, "strerror", None) or str(self.cause)) if self.unreadable else str(self.cause)


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not text
        raise JsonFileError(Path(path), exc) from None
