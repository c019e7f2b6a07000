"""The plan command: what it prints, what it writes, and its exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from infra.cli import EXIT_INVALID_CONFIG, main
from tests.conftest import edit_stack


def test_plan_all_writes_one_export_per_stack_in_deploy_order(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["plan", "--all", "--out", str(tmp_path)], out=out) == 0
    text = out.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ap-se.json", "eu-west.json", "us-east.json"]
    headers = [line for line in text.splitlines() if line.startswith("=== stack")]
    assert headers == ["=== stack us-east ===", "=== stack eu-west ===", "=== stack ap-se ==="]
    export = json.loads((tmp_path / "ap-se.json").read_text())
    types = [r["type"] for r in export["deployment"]["resources"]]
    assert types.count("aws:ec2/vpcPeeringConnection:VpcPeeringConnection") == 2
    # The tree shows children under their component, and the summary counts by type.
    assert "└─ hse:network:RegionStack  hse-us-east" in text or "├─ hse:network:RegionStack  hse-us-east" in text
    assert "│  ├─ aws:ec2/vpc:Vpc  hse-us-east-vpc" in text
    assert any(line.split() == ["aws:ec2/subnet:Subnet", "9"] for line in text.splitlines())
    assert "  vpcCidr: 10.2.0.0/16" in text


def test_plan_one_stack_summary_only(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["plan", "--stack", "eu-west", "--summary-only"], out=out) == 0
    text = out.getvalue()
    assert "=== stack eu-west ===" in text and "=== stack us-east ===" not in text
    assert "aws:ec2/vpc:Vpc  hse-eu-west-vpc" not in text
    # eu-west owns its peering's us-east-1 side: accepter, DNS option, 4 routes, 4 data-tier ingress and 4 app egress rules.
    assert "by region: eu-west-1 65, us-east-1 14" in text
    assert "  appSubnetCidrs: [\"10.1.0.0/19\", \"10.1.32.0/19\", \"10.1.64.0/19\"]" in text


def test_invalid_config_exits_non_zero_with_the_message(project_copy: Path, tmp_path: Path) -> None:
    edit_stack(project_copy, "eu-west", vpcCidr="10.0.0.0/16")
    out, err = io.StringIO(), io.StringIO()
    code = main(["--project", str(project_copy), "plan", "--all", "--out", str(tmp_path / "o")], out=out, err=err)
    assert code == EXIT_INVALID_CONFIG
    assert "Pulumi.eu-west.yaml: hse:vpcCidr: 10.0.0.0/16 overlaps 10.0.0.0/16 of Pulumi.us-east.yaml" in err.getvalue()
    assert not (tmp_path / "o").exists()


def test_unknown_stack_is_a_clear_error(capsys) -> None:
    err = io.StringIO()
    assert main(["plan", "--stack", "us-west"], out=io.StringIO(), err=err) == EXIT_INVALID_CONFIG
    assert "Pulumi.us-west.yaml: no such stack file (stacks in this project: ap-se, eu-west, us-east)" in err.getvalue()


def test_unreadable_stack_file_is_a_clear_error(project_copy: Path) -> None:
    (project_copy / "Pulumi.eu-west.yaml").write_text("config:\n  hse:role: [secondary\n")
    err = io.StringIO()
    code = main(["--project", str(project_copy), "plan", "--stack", "us-east"], out=io.StringIO(), err=err)
    assert code == EXIT_INVALID_CONFIG
    assert "  - Pulumi.eu-west.yaml: cannot be read as YAML" in err.getvalue()


def test_validate_reports_every_stack() -> None:
    out = io.StringIO()
    assert main(["validate"], out=out) == 0
    assert out.getvalue().splitlines() == [
        "us-east: valid (primary, us-east-1, 10.0.0.0/16, deploy order 0)",
        "eu-west: valid (secondary, eu-west-1, 10.1.0.0/16, deploy order 1)",
        "ap-se: valid (secondary, ap-southeast-1, 10.2.0.0/16, deploy order 2)",
    ]


def test_validate_lists_problems_of_all_stacks_once(project_copy: Path) -> None:
    edit_stack(project_copy, "eu-west", appInstanceCount=0)
    edit_stack(project_copy, "ap-se", awsRegion="ap-southeast-9")
    err = io.StringIO()
    assert main(["--project", str(project_copy), "validate"], out=io.StringIO(), err=err) == EXIT_INVALID_CONFIG
    lines = sorted(line for line in err.getvalue().splitlines() if line.startswith("  - "))
    assert len(lines) == 2
    assert lines[0].startswith("  - Pulumi.ap-se.yaml: hse:awsRegion: 'ap-southeast-9' is not an AWS region")
    assert lines[1].startswith("  - Pulumi.eu-west.yaml: hse:appInstanceCount: 0 is below 1")
