"""`python -m infra.cli flows`: the table, the JSON, the Markdown, and the literal exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.test_cli import run
from tests.conftest import copy_project


def test_every_flow_holds_exit_0_and_the_json_has_every_hop(tmp_path: Path) -> None:
    code, out, err = run("flows", "--all", "--json", str(tmp_path / "flows.json"),
                         "--markdown", str(tmp_path / "flows.md"))
    assert code == 0, err
    data = json.loads((tmp_path / "flows.json").read_text())
    assert data["verdict"] == "pass" and len(data["flows"]) == 35
    assert all(h["verdict"] == "pass" for f in data["flows"] for h in f["hops"])
    assert "35 of 35 flows hold" in out
    assert (tmp_path / "flows.md").read_text().startswith("| flow | what is checked | us-east | eu-west | ap-se |")


def test_a_blocked_flow_exits_4_and_names_the_hop(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    stack_file = project / "Pulumi.ap-se.yaml"
    # A runner inside the VPC, but the public endpoint kept: still fine; then neither is a config error.
    text = stack_file.read_text().replace("hse:eksPublicAccessCidrs: [203.0.113.0/24]", "hse:eksPublicAccessCidrs: []")
    stack_file.write_text(text + "  hse:eksDeployerInsideVpc: true\n")
    code, out, err = run("--project", str(project), "flows", "--stack", "ap-se", "--flow", "deployer")
    assert code == 0, out + err
    # The plan says the deployer is inside; the flow holds on a private-only endpoint.
    assert "1 of 1 flows hold" in out


def test_usage_errors_exit_2_and_write_nothing(tmp_path: Path, capsys) -> None:
    code, _, err = run("flows", "--stack", "mars", "--json", str(tmp_path / "f.json"))
    assert code == 2 and "no such stack" in err and not (tmp_path / "f.json").exists()
    for argv in (("flows", "--all", "--flow", "teleport"), ("flows",), ("flows", "--all", "--stack", "eu-west")):
        with pytest.raises(SystemExit) as exit_:
            run(*argv)
        assert exit_.value.code == 2
    assert "invalid choice: 'teleport'" in capsys.readouterr().err


def test_flags_that_need_another_flag_are_usage_errors(tmp_path: Path) -> None:
    code, out, err = run("plan", "--all", "--detailed-exitcode")
    assert (code, out) == (2, "") and "--detailed-exitcode needs --diff DIR" in err
    code, out, err = run("plan", "--all", "--drill", str(tmp_path / "drill.json"))
    assert (code, out) == (2, "") and "--drill needs --report DIR" in err
    not_a_folder = tmp_path / "plan.json"
    not_a_folder.write_text("{}")
    code, out, err = run("plan", "--all", "--diff", str(not_a_folder))
    assert (code, out) == (2, "") and "is a file; --diff takes the folder" in err


def test_output_flags_write_through_links_and_dash_is_stdout(tmp_path: Path) -> None:
    target = tmp_path / "real.md"
    target.write_text("old")
    link = tmp_path / "routing.md"
    link.symlink_to(target)
    code, out, err = run("routing", "--markdown", str(link))
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() != "old" and "routing table" in out
    code, out, err = run("routing", "--markdown", "-")
    assert code == 0 and not (Path.cwd() / "-").exists() and len(out.splitlines()) > 10
