"""Routing quality: the share of ISO 3166 countries routed to a region within 1.25x the
great-circle distance of their nearest deployed region, for the spec's continent rules
alone and for the routing table (with its computed country overrides), and the same
measure for the DNS answers when any one region is down. Prints figures.

    .venv/bin/python benchmarks/bench_routing.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.config import deploy_order, load_stack  # noqa: E402
from infra.domain.routing_table import DeployedRegion, build, failover_quality, quality  # noqa: E402
from infra.config.stackfiles import Project  # noqa: E402


def main() -> None:
    project = Project(ROOT)
    stacks = [load_stack(project, name) for name in deploy_order(project)]
    deployed = [DeployedRegion(c.stack, c.aws_region, c.is_primary, c.deploy_order) for c in stacks]
    report("the stack files", deployed)
    # The spec's roadmap regions, added one after the other.
    extra = [("au", "ap-southeast-2"), ("sa", "sa-east-1"), ("af", "af-south-1")]
    for i, (stack, region) in enumerate(extra):
        deployed = deployed + [DeployedRegion(stack, region, False, 10 + i)]
        report(f"+ {', '.join(s for s, _ in extra[:i + 1])} (roadmap)", deployed)


def report(case: str, deployed: list[DeployedRegion]) -> None:
    start = time.perf_counter()
    table = build(deployed)
    elapsed = time.perf_counter() - start
    rules, measured = quality(table, with_overrides=False)
    routed, _ = quality(table)
    failover, outages = failover_quality(table)
    print(f"{case:<32} regions {len(deployed)}  continent rules {rules / measured:6.1%}  "
          f"table {routed / measured:6.1%}  one region down {failover / outages:6.1%}  "
          f"overrides {len(table.overrides):3}  "
          f"({measured} countries measured, built in {elapsed * 1000:.0f} ms, version {table.version})")


if __name__ == "__main__":
    main()
