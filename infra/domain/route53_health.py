"""How Route 53 turns its checkers' reports into one verdict, for code that reads them
with `GetHealthCheckStatus` (the blue-green switch asks whether a colour is healthy
before it sends traffic there).

Route 53 developer guide, "How Amazon Route 53 determines whether a health check is
healthy": if more than 18 % of health checkers report that an endpoint is healthy,
Route 53 considers it healthy; 18 % or fewer, unhealthy. A checker's report is healthy
when its status starts with `Success` (the `StatusReport.Status` of each observation).
"""

from __future__ import annotations

from typing import Iterable

HEALTHY_FRACTION = 0.18


def healthy(statuses: Iterable[str]) -> bool:
    """The verdict of the checkers' statuses; no report at all is not healthy."""
    reports = list(statuses)
    if not reports:
        return False
    passing = sum(1 for status in reports if status.startswith("Success"))
    return passing > HEALTHY_FRACTION * len(reports)
