"""The local drill's figures: the whole drill on real servers (asynchronous streaming), then
the unplanned failovers again with synchronous replication to one standby. Prints, per
scenario, the RTO of the worst region's users, the RPO in rows and seconds, the controller's
own share and the wall time; never asserts a duration.

    .venv/bin/python benchmarks/bench_drill_local.py [--clock-scale 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.local.drill import LocalDrill  # noqa: E402
from infra.local.platform import LocalPlatform  # noqa: E402
from infra.local.record import print_table  # noqa: E402
from infra.local.scenarios import with_prerequisites  # noqa: E402


def run(scale: float, synchronous: bool, names: list[str]) -> None:
    started = time.perf_counter()
    with LocalPlatform(ROOT, clock_scale=scale, synchronous=synchronous) as local:
        up = time.perf_counter() - started
        results = LocalDrill(local).run(with_prerequisites(names))
    wall = time.perf_counter() - started
    mode = "synchronous to one standby" if synchronous else "asynchronous streaming"
    print(f"\n{mode}, drill clock x{scale:g}: platform up in {up:.1f} s, whole run {wall:.1f} s")
    print_table(results, sys.stdout)
    for r in results:
        parts = r.measured.get("promotionParts")
        if parts:
            print(f"  {r.name}: controller {r.measured['controllerSeconds']:.3f} s = "
                  + " + ".join(f"{k} {v:.3f}" for k, v in parts.items())
                  + f" s; detection {r.measured['detectionSeconds']:.2f} s, reconnect {r.measured['reconnectSeconds']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clock-scale", type=float, default=60)
    args = parser.parse_args()
    run(args.clock_scale, False, [])
    run(args.clock_scale, True, ["primary-lost", "lagging-replica"])


if __name__ == "__main__":
    main()
