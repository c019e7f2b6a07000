"""What the local drill measures from the load's ledger and the databases themselves.

- RTO, per region's users: from their first write that failed to be acknowledged (at or
  after the fault) to their first acknowledged write committed by the new primary.
- RPO: acknowledged writes missing from an instance, in rows and in seconds of commit time
  (from the oldest missing write's commit to the fault).
- Divergence: every acknowledged write present exactly once; no row the load never sent;
  the same checksum per tenant on every instance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

from infra.local.load import Attempt, Ledger
from infra.local.servers import Postgres


def rto(ledger: Ledger, users_of: str, fault: float, writer: str, old_writer: str = "") -> Optional[float]:
    """Seconds `users_of`'s writes were down after `fault`: from their first write after it that the
    old writer did not acknowledge (failed, or held by the pool until the new writer took it) to
    their first write acknowledged by `writer`. 0 when none was; None when none reached `writer`."""
    mine = sorted((a for a in ledger.all() if a.users_of == users_of and a.sent >= fault), key=lambda a: a.sent)
    old = old_writer or writer
    first = next((a for a in mine if not (a.acked and a.writer == old)), None)
    if first is None:
        return 0.0
    back = next((a for a in mine if a.acked and a.writer == writer and a.sent >= first.sent), None)
    return None if back is None else back.done - first.sent


def titles(node: Postgres) -> dict[str, int]:
    """Every write id on `node` and how many rows carry it (read as the superuser: every tenant)."""
    return {t: n for t, n in node.query("SELECT title, count(*) FROM app.incidents GROUP BY title", timeout=10)}


@dataclass(frozen=True)
class Loss:
    missing: frozenset[str]
    rows: int
    seconds: float
    duplicates: int
    unknown: int
    """Rows whose write id the load never sent (a write from nowhere)."""


def loss(ledger: Ledger, node: Postgres, fault: float, known: frozenset[str] = frozenset()) -> Loss:
    """Acknowledged writes missing on `node` (leaving out `known` ones, reported lost before)."""
    present = titles(node)
    acked = ledger.acked()
    missing = [a for a in acked if a.write_id not in present and a.write_id not in known]
    sent = {a.write_id for a in ledger.all()}
    oldest = min((a.committed_at for a in missing), default=None)
    return Loss(frozenset(a.write_id for a in missing), len(missing), 0.0 if oldest is None else max(0.0, fault - oldest),
                sum(1 for n in present.values() if n > 1), sum(1 for t in present if t not in sent))


def checksums(node: Postgres) -> dict[str, str]:
    """Per tenant: an md5 over its write ids in order."""
    rows = node.query("SELECT tenant_id::text, md5(string_agg(title, ',' ORDER BY title)) FROM app.incidents "
                      "GROUP BY tenant_id", timeout=10)
    return dict(rows)


def expected_checksums(acked: list[Attempt], tenants: dict[str, str]) -> dict[str, str]:
    by: dict[str, list[str]] = {}
    for a in acked:
        by.setdefault(tenants[a.tenant], []).append(a.write_id)
    return {t: hashlib.md5(",".join(sorted(ids)).encode()).hexdigest() for t, ids in by.items()}
