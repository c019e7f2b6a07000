"""The offline gate's command line: exit codes (literals), table, JSON, SARIF, plan files, bad input."""

from __future__ import annotations

import json

from policies.cli import main


def _plan_file(tmp_path, plan, rotation: bool = True):
    """The stack's export as the plan command writes it; `rotation=False` turns the
    rotation of its symmetric KMS key off."""
    export = plan.to_export()
    for resource in export["deployment"]["resources"]:
        if resource["type"] == "aws:kms/key:Key" and resource["inputs"].get("multiRegion"):
            resource["inputs"]["enableKeyRotation"] = rotation
    path = tmp_path / f"{plan.stack}.json"
    path.write_text(json.dumps(export))
    return path


def test_all_real_stacks_pass_and_write_json_and_sarif(tmp_path, plans, capsys):
    code = main(["check", "--all", "--no-color", "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif")])
    out = capsys.readouterr().out
    assert code == 0
    for stack, plan in plans.items():
        assert f"{stack}: PASS — 0 mandatory, 0 advisory violation(s) over {len(plan.resources)} resources" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert [s["stack"] for s in data["stacks"]] == ["us-east", "eu-west", "ap-se"]
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(r["shortDescription"]["text"] for r in rules) and len(rules) >= 40
    assert sarif["runs"][0]["results"] == []


def test_a_mandatory_violation_exits_4_and_reaches_the_sarif(tmp_path, plans, capsys):
    path = _plan_file(tmp_path, plans["us-east"], rotation=False)
    sarif = tmp_path / "r.sarif"
    assert main(["check", "--plan", str(path), "--no-color", "--sarif", str(sarif)]) == 4
    assert "us-east: FAIL — 1 mandatory, 0 advisory" in capsys.readouterr().out
    (result,) = json.loads(sarif.read_text())["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("kms-key-rotation", "error")


def test_exit_0_when_the_violated_policies_are_advisory(tmp_path, plans, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"all": "advisory"}))
    path = _plan_file(tmp_path, plans["us-east"], rotation=False)
    assert main(["check", "--plan", str(path), "--config", str(tmp_path / "config.json"), "--no-color"]) == 0
    assert "us-east: PASS — 0 mandatory, 1 advisory violation(s)" in capsys.readouterr().out


def test_a_plan_file_is_checked_without_the_program(tmp_path, plans, capsys):
    assert main(["check", "--plan", str(_plan_file(tmp_path, plans["us-east"])), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "us-east: aurora-global-ignore-changes not applicable: a stack export holds no resource options" in out
    assert "us-east: PASS — 0 mandatory" in out


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


def test_an_unwritable_output_is_refused_before_anything_is_checked(tmp_path, capsys, monkeypatch):
    import infra.engine

    monkeypatch.setattr(infra.engine, "Engine", lambda *a, **k: (_ for _ in ()).throw(AssertionError("planned")))
    assert main(["check", "--all", "--json", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: --json cannot write {tmp_path}: it is a folder\n"
    (tmp_path / "f").write_text("")
    assert main(["check", "--all", "--sarif", str(tmp_path / "f" / "r.sarif")]) == 2
    assert capsys.readouterr().err == f"error: --sarif cannot write {tmp_path / 'f' / 'r.sarif'}: {tmp_path / 'f'} is not a folder\n"


def test_an_output_that_fails_after_the_check_exits_1(tmp_path, plans, capsys, monkeypatch):
    from infra.domain import outfile

    def full(path, text, **kwargs):
        raise outfile.OutputError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(outfile, "write_text", full)
    path = _plan_file(tmp_path, plans["us-east"])
    assert main(["check", "--plan", str(path), "--json", str(tmp_path / "r.json")]) == 1
    assert capsys.readouterr().err == f"error: --json cannot write {tmp_path / 'r.json'}: No space left on device\n"


def test_ctrl_c_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    from policies import pack

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pack, "load_config", interrupted)
    assert main(["check", "--all"]) == 130
    assert capsys.readouterr().err == "interrupted; nothing was written\n"
