"""Which input properties force a replacement, per resource type (provisional loader;
the table is infra/data/replacement.json)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Optional

_TABLE = Path(__file__).resolve().parents[1] / "data" / "replacement.json"
_INDEX = re.compile(r"\[\d+\]")


@functools.lru_cache(maxsize=1)
def _types() -> dict[str, frozenset[str]]:
    data = json.loads(_TABLE.read_text())
    return {t: frozenset(entry["replaceOn"]) for t, entry in data["types"].items()}


def covered_types() -> frozenset[str]:
    return frozenset(_types())


def replace_keys(type_: str) -> frozenset[str]:
    return _types()[type_]


def forces_replacement(type_: str, path: str) -> Optional[str]:
    keys = _types().get(type_, frozenset())
    p = _INDEX.sub("[]", path)
    for e in sorted(keys):
        if p == e or p.startswith((e + ".", e + "[")) or e.startswith((p + ".", p + "[")):
            return e
    return None
