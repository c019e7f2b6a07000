"""Which changed input forces a replacement (`+-`), per resource type, from the table
`infra/data/replacement.json` (its sources, with repository and commit, are in the file).

The table lists, for every custom resource type the program can declare, the input paths
whose change the provider answers with a replacement rather than an update:

- AWS (pulumi-aws bridges terraform-provider-aws): schema attributes with `ForceNew: true`
  and CustomizeDiff functions that force new (these are noted per type);
- kubernetes (pulumi-kubernetes): `metadata.name`, `metadata.namespace` and the kind's
  `forceNewProperties` (provider/pkg/provider/diff.go), a helm.sh/v3 Release's name and
  namespace;
- random, tls, cloudflare (RequiresReplace plan modifiers) and fastly (ForceNew).

Paths are the recorded (camelCase) input names, dotted for nested objects, with `[]` for
"any element of this list or set": `healthCheck.interval`, `ingress[].fromPort`. An empty
list means every input updates in place. A type missing from the table is an error
(`KeyError`): a new resource class must be added to the table with its sources.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

TABLE = Path(__file__).parents[1] / "data" / "replacement.json"

_INDEX = re.compile(r"\[\d+\]")


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, frozenset[str]]:
    doc = json.loads(TABLE.read_text())
    return {type_: frozenset(entry["replaceOn"]) for type_, entry in doc["types"].items()}


def covered_types() -> frozenset[str]:
    """Every resource type the table describes."""
    return frozenset(_table())


def replace_keys(type_: str) -> frozenset[str]:
    """The input paths whose change replaces a resource of `type_`; KeyError for a type not in the table."""
    return _table()[type_]


def normalize(path: str) -> str:
    """`ingress[2].fromPort` -> `ingress[].fromPort`: list positions do not matter to the table."""
    return _INDEX.sub("[]", path)


def _under(path: str, parent: str) -> bool:
    return path.startswith(parent + ".") or path.startswith(parent + "[")


def forces_replacement(type_: str, path: str) -> str | None:
    """The table entry a change at `path` forces a replacement through, or None for an update.

    An entry E matches the changed path P when P is E or lies inside it (a changed child of a
    force-new block), or when E lies inside P (a changed, added or removed parent of a
    force-new child). Of several matching entries, the shortest (then first in order) is named.
    """
    changed = normalize(path)
    hits = [entry for entry in replace_keys(type_)
            if changed == entry or _under(changed, entry) or _under(entry, changed)]
    return min(hits, key=lambda entry: (len(entry), entry)) if hits else None
