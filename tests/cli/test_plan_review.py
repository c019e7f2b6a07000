"""What a reviewer reads from `plan --diff`: replacements named by the property that forces
them, what the real engine or AWS would refuse, the data-loss gate, the Markdown for a pull
request, and a default output short enough to read.

Exit codes are literals (0, 1, 2, 4): a contract with CI scripts.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from infra.cli.main import main
from tests.conftest import copy_project, edit_stack


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def main_plan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("main") / "plan"
    code, _, err = run("plan", "--all", "--out", str(out))
    assert (code, err) == (0, "")
    return out


def test_the_default_output_is_a_screenful(main_plan) -> None:
    code, text, _ = run("plan", "--all", "--policy")
    lines = text.splitlines()
    assert code == 0 and len(lines) <= 30, len(lines)
    assert "├─" not in text and "outputs:" not in text
    assert lines[0] == "=== stack us-east ==="
    assert sum(line.startswith("modeled RTO: ") for line in lines) == 3
    assert sum(line.startswith("estimated monthly cost: ") for line in lines) == 3
    assert [line.split(":")[0] for line in lines if "PASS" in line] == ["us-east", "eu-west", "ap-se"]


@pytest.fixture(scope="module")
def replaced(main_plan, tmp_path_factory) -> tuple[int, str, dict, str]:
    """A VPC's CIDR and the health checks' interval changed: both are create-only in AWS."""
    project = copy_project(tmp_path_factory.mktemp("replaced") / "project")
    edit_stack(project, "eu-west", vpcCidr="10.9.0.0/16")
    edit_stack(project, "us-east", edgeHealthCheckInterval=10)
    folder = tmp_path_factory.mktemp("replaced-out")
    code, text, _ = run("--project", str(project), "plan", "--all", "--diff", str(main_plan), "--policy",
                        "--json", str(folder / "plan.json"), "--markdown", str(folder / "pr.md"))
    return code, text, json.loads((folder / "plan.json").read_text()), (folder / "pr.md").read_text()


def test_a_create_only_property_is_a_replacement_named_by_it(replaced) -> None:
    code, text, _, _ = replaced
    lines = [line.strip() for line in text.splitlines()]
    assert "+- aws.ec2.Vpc  hse-eu-west-vpc  (replace: cidrBlock)" in lines
    assert '~ cidrBlock: "10.1.0.0/16" → "10.9.0.0/16"  [forces replacement]' in lines
    # The subnets take the new VPC's id and their own new CIDR: both force new subnets.
    assert "+- aws.ec2.Subnet  hse-eu-west-app-eu-west-1a  (replace: cidrBlock, vpcId)" in lines
    assert any(line.startswith("+- aws.route53.HealthCheck") and line.endswith("(replace: requestInterval)")
               for line in lines)


def test_replacements_are_counted_in_the_json_and_the_markdown(replaced) -> None:
    _, _, data, markdown = replaced
    eu = next(s for s in data["stacks"] if s["stack"] == "eu-west")["diff"]
    vpc = next(r for r in eu["replace"] if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["forcedBy"] == ["cidrBlock"] and vpc["deleteBeforeReplace"] is False
    assert eu["counts"]["replace"] == len(eu["replace"]) >= 10
    row = next(line for line in markdown.splitlines() if line.startswith("| eu-west |"))
    assert row.split(" | ")[3] == str(eu["counts"]["replace"])
    assert "+- aws.ec2.Vpc  hse-eu-west-vpc  (replace: cidrBlock)" in markdown


def test_a_one_property_change_is_near_the_top(main_plan, tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    edit_stack(project, "us-east", flowLogRetentionDays=90)
    code, text, _ = run("--project", str(project), "plan", "--stack", "us-east", "--diff", str(main_plan))
    lines = text.splitlines()
    assert code == 0
    at = next(i for i, line in enumerate(lines) if "retentionInDays: 365 → 90" in line)
    assert at < 30


@pytest.fixture(scope="module")
def engine_switch(main_plan, tmp_path_factory) -> Path:
    """us-east moves from Aurora to RDS PostgreSQL: the global cluster and the Aurora cluster go."""
    project = copy_project(tmp_path_factory.mktemp("switch") / "project")
    edit_stack(project, "us-east", dbEngine="rds-postgres", edgeHealthCheckInterval=10)  # RTO: docs/database.md
    return project


def test_deleting_protected_data_stores_is_refused_with_exit_1(engine_switch, main_plan) -> None:
    code, text, _ = run("--project", str(engine_switch), "plan", "--stack", "us-east", "--diff", str(main_plan))
    assert code == 1
    assert ('error: unable to delete resource "urn:pulumi:us-east::hse::hse:data:ReplicaDatabase$'
            'aws:rds/globalCluster:GlobalCluster::hse-us-east-db-global"') in text
    assert "error: preview failed: " in text
    assert "data loss: delete of aws.rds.GlobalCluster hse-us-east-db-global" in text


def test_naming_a_loss_the_plan_does_not_show_is_a_usage_error(engine_switch, main_plan) -> None:
    code, _, err = run("--project", str(engine_switch), "plan", "--stack", "us-east", "--diff", str(main_plan),
                       "--allow-data-loss", "hse-us-east-no-such-bucket")
    assert code == 2
    assert err.startswith("error: --allow-data-loss hse-us-east-no-such-bucket: this plan deletes or replaces no "
                          "resource holding data by that name; it loses: ")


def test_allow_data_loss_needs_diff() -> None:
    code, _, err = run("plan", "--all", "--allow-data-loss", "x")
    assert code == 2 and err == "error: --allow-data-loss needs --diff DIR: it accepts a loss that plan shows\n"


def test_switching_the_cdn_provider_refuses_to_delete_the_uploads_bucket(main_plan, tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    edit_stack(project, "us-east", cdnProvider="cloudflare", cloudflareZoneId="0123456789abcdef0123456789abcdef")
    code, text, _ = run("--project", str(project), "plan", "--stack", "us-east", "--diff", str(main_plan),
                        "--json", str(tmp_path / "plan.json"))
    assert code == 1
    (us_east,) = json.loads((tmp_path / "plan.json").read_text())["stacks"]
    refused = {(r["type"], r["by"], r["step"]) for r in us_east["diff"]["refused"]}
    assert ("aws:s3/bucket:Bucket", "pulumi", "delete") in refused
    assert any(loss["type"] == "aws:s3/bucket:Bucket" and not loss["accepted"] for loss in us_east["diff"]["dataLoss"])
    assert "data loss: delete of aws.s3.Bucket " in text
