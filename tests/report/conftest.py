"""The report is built once per session from the session's plans, against a baseline
made from those plans with three known changes, and written to a temporary folder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from infra.engine.diff import diff_exports
from infra.report import build

PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"


def changed_baseline(plans) -> dict[str, dict]:
    """Earlier exports that differ from the plans by: us-east's Redis node type (an update),
    eu-west's peering connection (absent, so a create) and a second ap-se health check (a delete)."""
    exports = {stack: copy.deepcopy(plan.to_export()) for stack, plan in plans.items()}
    for r in exports["us-east"]["deployment"]["resources"]:
        if r["type"] == "aws:elasticache/replicationGroup:ReplicationGroup":
            r["inputs"]["nodeType"] = "cache.r6g.large"
    eu = exports["eu-west"]["deployment"]
    eu["resources"] = [r for r in eu["resources"] if r["type"] != PEERING]
    ap = exports["ap-se"]["deployment"]["resources"]
    check = next(r for r in ap if r["type"] == "aws:route53/healthCheck:HealthCheck")
    gone = copy.deepcopy(check)
    gone["urn"] = check["urn"] + "-old"
    ap.append(gone)
    return exports


@pytest.fixture(scope="session")
def report_diffs(plans):
    baseline = changed_baseline(plans)
    return [diff_exports(stack, baseline[stack], plan.to_export()) for stack, plan in plans.items()]


@pytest.fixture(scope="session")
def report(engine, plans, report_diffs):
    return build.build(engine, list(plans.values()), report_diffs, "baseline/")


@pytest.fixture(scope="session")
def report_index(report, tmp_path_factory) -> Path:
    return build.write(report, tmp_path_factory.mktemp("report") / "out")
