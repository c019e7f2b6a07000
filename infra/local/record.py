"""The local drill's record: the summary table it prints and the JSON file it writes.

The file is the drill format `report --drill` reads (`infra/report/drill.py`: `title`,
`rtoBudgetSeconds`, `steps` with `modeledSeconds` and `measuredSeconds`), the steps being
the primary's loss as measured here beside the spec profile's model; everything else the
drill measured is under `local` (a key that format leaves alone):

    {"title": ..., "rtoBudgetSeconds": 300, "steps": [...],
     "local": {"clockScale": 60, "synchronous": false, "wallSeconds": 47.6, "passed": true,
               "scenarios": [{"name", "title", "passed", "wallSeconds", "measured": {...},
                              "checks": [{"what", "ok"}], "timeline": [{"atSeconds", "event"}],
                              "outcomes": [{"operation", "action", "code", "detail", "steps": [...]}]}]}}
"""

from __future__ import annotations

from typing import Any, Optional, TextIO

from infra.local.drill import RTO_BUDGET, Result


def _steps(primary_lost: Optional[Result]) -> list[dict[str, Any]]:
    """The primary's loss, step by step: modeled (spec profile) beside measured (the drill clock)."""
    if primary_lost is None or "controllerSeconds" not in primary_lost.measured:
        return [{"name": "primary region lost: not measured (the scenario did not run to its end)",
                 "modeledSeconds": 0, "measuredSeconds": None}]
    m = primary_lost.measured
    steps = {s["name"]: s for s in m["steps"]}
    detect = steps["detect"]["modeledSeconds"]
    return [
        {"name": "detection (failed health checks, alarm window, forwarding)", "modeledSeconds": detect,
         "measuredSeconds": m["detectionSeconds"]},
        {"name": "promotion (fence, pg_promote, pools and standbys repointed)",
         "modeledSeconds": steps["promote"]["modeledSeconds"], "measuredSeconds": m["controllerSeconds"]},
        {"name": "reconnect through the pool", "modeledSeconds": steps["reconnect"]["modeledSeconds"],
         "measuredSeconds": m["reconnectSeconds"]},
    ]


def to_json(results: list[Result], clock_scale: float, synchronous: bool, wall_seconds: float) -> dict[str, Any]:
    primary_lost = next((r for r in results if r.name == "primary-lost"), None)
    return {
        "title": f"local drill (drill clock x{clock_scale:g}): primary region lost, measured beside modeled",
        "rtoBudgetSeconds": RTO_BUDGET,
        "steps": _steps(primary_lost),
        "local": {
            "clockScale": clock_scale, "synchronous": synchronous, "wallSeconds": round(wall_seconds, 2),
            "passed": bool(results) and all(r.passed for r in results),
            "scenarios": [{
                "name": r.name, "title": r.title, "passed": r.passed, "wallSeconds": round(r.wall_seconds, 2),
                "measured": r.measured,
                "checks": [{"what": c.what, "ok": c.ok} for c in r.checks],
                "timeline": [{"atSeconds": round(at, 3), "event": e} for at, e in r.events],
                "outcomes": [{"operation": o.operation, "action": o.action, "code": o.code, "detail": o.detail,
                              "steps": [{"name": s.name, "detail": s.detail, "modeledSeconds": s.modeled_seconds,
                                         "measuredSeconds": round(s.wall_ms / 1000, 4), "critical": s.critical}
                                        for s in o.steps]} for o in r.outcomes],
            } for r in results],
        },
    }


def _rto(result: Result) -> str:
    values = result.measured.get("rtoSeconds") or {}
    known = [v for v in values.values() if v is not None]
    if not values:
        return "-"
    if len(known) < len(values):
        return "never"
    return f"{max(known):.2f} s"


def print_table(results: list[Result], out: TextIO) -> None:
    w = out.write
    w(f"\n{'scenario':<17}{'RTO (worst region)':>19}{'RPO rows':>10}{'RPO s':>8}  {'divergence':<12}"
      f"{'controller':>11}  result\n")
    for r in results:
        m = r.measured
        divergence = ("none" if m.get("checksumsEqual") else "FOUND") if "checksumsEqual" in m else "-"
        controller = f"{m['controllerSeconds']:.2f} s" if "controllerSeconds" in m else "-"
        rpo_s = f"{m['rpoSeconds']:.3f}" if "rpoSeconds" in m else "-"
        w(f"{r.name:<17}{_rto(r):>19}{m.get('rpoRows', '-')!s:>10}{rpo_s:>8}  {divergence:<12}{controller:>11}  "
          f"{'held' if r.passed else 'BROKEN'}\n")
