"""Synthetic N-region topologies, generated from this project's own stack files.

Used by the benchmark (and handy for game days): the primary's stack file is the
template for the first stack, the first secondary's for every other one; each new
stack gets its own AWS region, a disjoint 10.<i>.0.0/16 and peers with every stack
before it, exactly what adding a region by hand would be.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from infra.domain import topology
from infra.config import load_stack
from infra.config.stackfiles import PROJECT_FILE, Project


def _regions(preferred: list[str]) -> list[str]:
    rest = [r.name for r in topology.REGIONS.values() if len(r.zone_suffixes) >= 3 and r.name not in preferred]
    return preferred + rest


def write_topology(source: Path, dest: Path, regions: int) -> list[str]:
    """Write a project with `regions` stacks to `dest`; return the stack names in deploy order."""
    project = Project(source)
    stacks = [load_stack(project, name) for name in project.stack_names()]
    primary = next(s for s in stacks if s.is_primary)
    secondary = min((s for s in stacks if not s.is_primary), key=lambda s: s.deploy_order)
    names = _regions([s.aws_region for s in sorted(stacks, key=lambda s: s.deploy_order)])
    if regions > len(names) or regions > 250:
        raise ValueError(f"at most {min(len(names), 250)} synthetic regions are available")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / PROJECT_FILE, dest / PROJECT_FILE)
    templates = {s.stack: yaml.safe_load((source / s.file).read_text())["config"] for s in (primary, secondary)}
    created: list[str] = []
    for i in range(regions):
        config = dict(templates[primary.stack if i == 0 else secondary.stack])
        region = topology.region(names[i])
        stack = f"s{i:02d}-{region.name}"
        config.update({
            "hse:awsRegion": region.name,
            "hse:deployOrder": i,
            "hse:vpcCidr": f"10.{i}.0.0/16",
            "hse:availabilityZones": list(region.availability_zones[:3]),
        })
        if created:
            config["hse:peers"] = list(created)
        (dest / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        created.append(stack)
    return created
