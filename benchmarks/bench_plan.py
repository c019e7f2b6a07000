"""Benchmark of the offline plan: one stack, the three real stacks, and synthetic 6- and
12-region topologies generated from the stack files. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_plan.py [--runs N]

Each run plans with a fresh engine (nothing cached but imported modules). Figures are
medians; on a noisy machine compare the ratios within one run, not absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.engine import Engine  # noqa: E402
from infra.config.synthetic import write_topology  # noqa: E402


def measure(project: Path, stacks: list[str] | None, runs: int) -> tuple[list[float], int]:
    times, resources = [], 0
    for _ in range(runs):
        engine = Engine(project, use_cache=False)
        start = time.perf_counter()
        plans = [engine.plan(s) for s in stacks] if stacks else engine.plan_all()
        times.append(time.perf_counter() - start)
        resources = sum(len(p) for p in plans)
    return times, resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case (default 5)")
    args = parser.parse_args()

    Engine(ROOT).plan("us-east")  # warm-up: module imports are not what is measured
    cases: list[tuple[str, Path, list[str] | None]] = [("1 stack (us-east)", ROOT, ["us-east"]),
                                                       ("3 stacks (project)", ROOT, None)]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (6, 12):
            dest = Path(tmp) / f"r{n}"
            write_topology(ROOT, dest, n)
            cases.append((f"{n} regions (synthetic)", dest, None))

        rows = []
        for label, project, stacks in cases:
            times, resources = measure(project, stacks, args.runs)
            rows.append((label, resources, statistics.median(times), min(times)))

    base = rows[1][2] / rows[1][1]
    print(f"{'case':<24}{'resources':>10}{'median s':>10}{'min s':>8}{'res/s':>8}{'ms/res':>8}{'vs 3':>6}")
    for label, resources, median, fastest in rows:
        per = median / resources
        print(f"{label:<24}{resources:>10}{median:>10.2f}{fastest:>8.2f}{resources / median:>8.0f}"
              f"{per * 1000:>8.2f}{per / base:>6.2f}")
    print(f"runs per case: {args.runs}; 'vs 3' is the time per resource relative to the 3-stack plan "
          "(1.00 = linear growth in resources)")


if __name__ == "__main__":
    main()
