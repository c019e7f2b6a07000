"""The policy gate's time over every stack: evaluation once, then the pack (median of runs), per resource."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from infra.engine import Engine  # noqa: E402
from policies.pack import POLICIES  # noqa: E402
from policies.runner import check_plan  # noqa: E402

RUNS = 5


def main() -> None:
    engine = Engine(PROJECT, use_cache=False)
    start = time.perf_counter()
    plans = engine.plan_all()
    evaluate = time.perf_counter() - start
    resources = sum(len(p) for p in plans)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for plan in plans:
            check_plan(plan, stack_config=engine.project.stack_file(plan.stack).config)
        times.append(time.perf_counter() - start)
    gate = statistics.median(times)
    print(f"{len(POLICIES)} policies, {len(plans)} stacks, {resources} resources")
    print(f"evaluate the program: {evaluate:.2f} s ({evaluate / resources * 1000:.2f} ms/resource)")
    print(f"run the pack (median of {RUNS}): {gate:.3f} s ({gate / resources * 1000:.3f} ms/resource)")
    print(f"gate total: {evaluate + gate:.2f} s ({(evaluate + gate) / resources * 1000:.2f} ms/resource)")


if __name__ == "__main__":
    main()
