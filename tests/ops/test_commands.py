"""The operational subcommands of `python -m infra.cli`: exit codes as numbers, one-line
errors for a user's mistake, never a traceback."""

from __future__ import annotations

import io
import json

import pytest

from infra.cli import main as cli
from infra.ops import rollout


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--no-color", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_deploy_dry_run_prints_the_rolling_steps():
    code, out, err = _run("deploy", "--dry-run", "--window", "600")
    assert (code, err) == (0, "")
    assert "deploy: dry-run - dry run: 3 stacks, nothing deployed" in out
    assert out.index("--stack us-east") < out.index("--stack eu-west") < out.index("--stack ap-se")
    assert out.count("monitor       600 s") == 2


def test_deploy_without_the_pulumi_cli_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(rollout.shutil, "which", lambda name: None)
    code, out, err = _run("deploy")
    assert code == 1
    assert err.startswith("error: the Pulumi CLI is not on PATH: the Automation API drives it.")
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (("deploy", "--window", "half-an-hour"), "'half-an-hour' is not a whole number of seconds"),
    (("deploy", "--window", "-5"), "-5 is negative"),
    (("deploy", "--blue-green", "--to", "purple"), "invalid choice: 'purple'"),
    (("drill", "--scenario", "meteor"), "invalid choice: 'meteor'"),
    (("failover",), "the following arguments are required: --stack"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        _run(*argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_blue_green_needs_a_stack_and_a_colour():
    code, _, err = _run("deploy", "--blue-green", "--dry-run")
    assert (code, err) == (2, "error: --blue-green needs --stack and --to (blue or green)\n")
    code, _, err = _run("deploy", "--blue-green", "--stack", "mars", "--to", "green", "--dry-run")
    assert (code, err) == (2, "error: --stack mars: no such stack; stacks: us-east, eu-west, ap-se\n")


def test_state_commands_need_the_state_region(monkeypatch):
    monkeypatch.delenv("HSE_STATE_REGION", raising=False)
    code, _, err = _run("failover-status")
    assert code == 2 and err.startswith("error: --state-region is required")


def test_state_commands_on_moto(world):
    world()  # seeds the state table in eu-west-1
    state = ("--state-region", "eu-west-1", "--state-table", "hse-test-state")
    code, out, _ = _run("failover-status", *state)
    assert code == 0 and json.loads(out)["failover"]["mode"] == "normal"
    code, _, err = _run("failover", "--stack", "mars", *state)
    assert (code, err) == (2, "error: --stack mars: no such stack; stacks: us-east, eu-west, ap-se\n")
    code, out, _ = _run("failover", "--stack", "us-east", "--dry-run", *state)
    assert code == 0 and "failover: dry-run - dry run: would fail us-east over to eu-west" in out
    code, out, _ = _run("failback", *state)
    assert code == 0 and "failback: noop - us-east is the primary; nothing to fail back" in out
    code, _, err = _run("failback", "--state-region", "eu-west-1", "--state-table", "missing")
    assert code == 1 and err.startswith("error: AWS Query: ResourceNotFoundException:")


def test_drill_command_runs_a_scenario_and_reports():
    code, out, err = _run("drill", "--scenario", "redis")
    assert (code, err) == (0, "")
    assert "== scenario redis: the primary's Redis fails" in out
    assert out.rstrip().endswith("drill: 1 of 1 scenarios passed")


def test_drill_reads_plan_files_and_names_a_missing_one(tmp_path):
    code, _, err = _run("drill", "--plan-dir", str(tmp_path))
    assert code == 1
    assert err == (f"error: {tmp_path}/us-east.json: missing; write the plans with "
                   f"`python -m infra.cli plan --all --out {tmp_path}`\n")
