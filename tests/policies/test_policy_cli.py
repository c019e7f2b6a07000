"""The offline gate's command line: exit codes (literals), table, JSON, SARIF, plan files, bad input."""

from __future__ import annotations

import json

from policies.cli import main
from tests.conftest import PROJECT_DIR


def test_all_stacks_exit_1_on_a_mandatory_violation_and_write_json_and_sarif(tmp_path, plans, capsys):
    code = main(["check", "--all", "--no-color", "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif")])
    out = capsys.readouterr().out
    assert code == 1
    assert "us-east: FAIL — 11 mandatory, 0 advisory violation(s) over 160 resources" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert [s["stack"] for s in data["stacks"]] == ["us-east", "eu-west", "ap-se"]
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(r["shortDescription"]["text"] for r in rules)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"route53-dnssec", "secret-rotation", "alarm-notifies-topic",
                                                                 "rds-cluster-multi-az"}


def test_exit_0_when_the_violated_policies_are_advisory(tmp_path, plans, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"all": "advisory"}))
    assert main(["check", "--stack", "eu-west", "--config", str(tmp_path / "config.json"), "--no-color"]) == 0
    assert "eu-west: PASS — 0 mandatory, 12 advisory violation(s) over 148 resources" in capsys.readouterr().out


def test_a_plan_file_is_checked_without_the_program(tmp_path, plans, capsys):
    path = tmp_path / "us-east.json"
    path.write_text(json.dumps(plans["us-east"].to_export()))
    assert main(["check", "--plan", str(path), "--no-color"]) == 1
    out = capsys.readouterr().out
    assert "us-east: aurora-global-ignore-changes not applicable: a stack export holds no resource options" in out
    assert "us-east: FAIL — 11 mandatory" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["check", "--stack", "mars"]) == 2
    assert capsys.readouterr().err == "error: unknown stack 'mars'; stacks: us-east, eu-west, ap-se\n"
    assert main(["check", "--plan", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err == f"error: cannot read plan file {tmp_path / 'missing.json'}: No such file or directory\n"
    (tmp_path / "bad.json").write_text("{")
    assert main(["check", "--plan", str(tmp_path / "bad.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: plan file {tmp_path / 'bad.json'} is not JSON:")
    assert main(["check", "--all", "--config", str(tmp_path / "bad.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: pack config {tmp_path / 'bad.json'} is not JSON:")
    try:
        main(["check"])
    except SystemExit as exc:
        assert exc.code == 2
    assert capsys.readouterr().err.startswith("error: one of the arguments --stack --all --plan is required")
