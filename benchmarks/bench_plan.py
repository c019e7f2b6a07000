"""Benchmark of the offline plan. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_plan.py [--runs N] [--cold-runs N]

First the command a user waits for, cold: `python -m infra.cli plan --all --out DIR` in a
new interpreter, its wall time, and where that time goes (imports of the CLI, evaluation
of each stack with the provider modules it loads on first use, rendering, writing).
Then, warm and in-process, one stack, the three real stacks, and synthetic 6- and
12-region topologies generated from the stack files: each run plans with a fresh engine
(nothing cached but imported modules). Figures are medians; on a noisy machine compare
the ratios within one run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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


# Run in a new interpreter: where a cold `plan --all` spends its time.
_PHASES = """
import io, json, sys, time
t0 = time.perf_counter()
from infra.cli.main import make_console
from infra.cli.render import Renderer
from infra.engine import Engine
t1 = time.perf_counter()
engine = Engine(sys.argv[1])
plans, stacks = [], []
for stack in ("us-east", "eu-west", "ap-se"):
    start = time.perf_counter()
    plans.append(engine.plan(stack))
    stacks.append(time.perf_counter() - start)
t2 = time.perf_counter()
render = Renderer(make_console(io.StringIO(), True))
for plan in plans:
    render.heading(plan.stack); render.tree(plan); render.summary(plan)
t3 = time.perf_counter()
for plan in plans:
    json.dumps(plan.to_export(), indent=2)
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "stacks": stacks, "render": t3 - t2, "write": t4 - t3}))
"""


def cold(runs: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--all", "--out", tmp], cwd=ROOT, env=env,
                           check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
    phases = [json.loads(subprocess.run([sys.executable, "-c", _PHASES, str(ROOT)], cwd=ROOT, env=env, check=True,
                                        capture_output=True, text=True).stdout) for _ in range(runs)]
    print(f"cold `python -m infra.cli plan --all --out DIR`: median {statistics.median(walls):.2f} s wall, "
          f"min {min(walls):.2f} s over {runs} runs")
    first = statistics.median(p["stacks"][0] for p in phases)
    later = statistics.median(statistics.mean(p["stacks"][1:]) for p in phases)
    print(f"  where it goes (medians): CLI imports {statistics.median(p['imports'] for p in phases):.2f} s; "
          f"first stack {first:.2f} s (its evaluation plus the provider modules it loads); "
          f"each later stack {later:.2f} s; render {statistics.median(p['render'] for p in phases):.2f} s; "
          f"export {statistics.median(p['write'] for p in phases):.2f} s")
    print(f"  provider-module loading, estimated as first stack minus a later one: {first - later:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs per case (default 5)")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold command runs (default 3)")
    args = parser.parse_args()
    if args.runs < 1 or args.cold_runs < 1:
        parser.error("--runs and --cold-runs must be at least 1")

    cold(args.cold_runs)

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
