"""The plan command: what it prints, what it writes, its diff and its exit codes.

Exit codes are asserted as literals (0, 1, 2, 3, 130, 141): they are a contract with
CI scripts, not whatever the code's constants happen to say.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli.main import main
from tests.conftest import PROJECT_DIR, copy_project, edit_stack


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, str]:
    """`plan --all --out` of the real project, once for this module."""
    out = tmp_path_factory.mktemp("baseline") / "plan"
    code, text, err = run("plan", "--all", "--out", str(out), "--verbose")
    assert (code, err) == (0, "")
    return out, text


def test_plan_all_writes_one_export_per_stack_in_deploy_order(baseline) -> None:
    out, text = baseline
    assert sorted(p.name for p in out.iterdir()) == ["ap-se.json", "eu-west.json", "us-east.json"]
    headers = [line for line in text.splitlines() if line.startswith("=== stack")]
    assert headers == ["=== stack us-east ===", "=== stack eu-west ===", "=== stack ap-se ==="]
    export = json.loads((out / "ap-se.json").read_text())
    types = [r["type"] for r in export["deployment"]["resources"]]
    assert types.count("aws:ec2/vpcPeeringConnection:VpcPeeringConnection") == 2
    lines = text.splitlines()
    # The tree shows children under their component with short names and short types.
    assert any(line.split() == ["├─", "hse-us-east", "hse.network.RegionStack"] for line in lines)
    assert any(line.split() == ["│", "├─", "vpc", "aws.ec2.Vpc"] for line in lines)
    assert any(line.split() == ["aws.ec2.Subnet", "9"] for line in lines)
    assert any(line.split() == ["vpcCidr", "10.2.0.0/16"] for line in lines)


def test_counts_add_up_and_the_grand_total_covers_every_stack(baseline) -> None:
    _, text = baseline
    count_lines = [line for line in text.splitlines() if " resources: " in line and "cloud resources" in line]
    assert len(count_lines) == 3
    totals = []
    for line in count_lines:
        words = line.replace(",", "").split()
        total, cloud, components, providers, reads = (int(words[i]) for i in (0, 2, 5, 7, 9))
        assert total == cloud + components + providers + reads, line
        totals.append(total)
    assert totals == [316, 227, 252]
    assert "total: 3 stack(s), 795 resources" in text


def test_computed_outputs_are_shown_as_known_after_deploy(baseline) -> None:
    _, text = baseline
    lines = [line.split() for line in text.splitlines()]
    assert ["vpcId", "(known", "after", "deploy)"] in lines
    assert ["appSubnetIds", "3", "×", "(known", "after", "deploy)"] in lines
    # What the program knows before deploying is shown as it is.
    assert ["accountId", "111122223333"] in lines and ["awsRegion", "eu-west-1"] in lines
    assert not any(word.startswith("vpc-") for line in lines for word in line)


def test_plan_one_stack_summary_only() -> None:
    code, text, _ = run("plan", "--stack", "eu-west", "--summary-only", "--verbose")
    assert code == 0
    assert "=== stack eu-west ===" in text and "=== stack us-east ===" not in text
    assert "├─" not in text and "└─" not in text
    # eu-west owns its peering's us-east-1 side: accepter, DNS option, 4 routes, 4 data-tier ingress and 4 app egress rules.
    assert "by region: eu-west-1 170, kubernetes 17, random 1, us-east-1 16" in text
    assert ("modeled RTO: 255 s (fast profile: 195 s; spec: under 300 s) = detection 90 s + max(DNS TTL 60 s, "
            "alarm window 60 s + forwarding 15 s + promotion 60 s) + reconnect 30 s") in text
    assert ["appSubnetCidrs", '["10.1.0.0/19",', '"10.1.32.0/19",', '"10.1.64.0/19"]'] in \
        [line.split() for line in text.splitlines()]


def test_diff_against_itself_shows_no_change_and_exits_0(baseline) -> None:
    out, _ = baseline
    code, text, _ = run("plan", "--all", "--summary-only", "--diff", str(out), "--detailed-exitcode")
    assert code == 0
    assert "us-east: +0 to create, ~0 to update, +-0 to replace, -0 to delete, 316 unchanged" in text
    assert "ap-se: +0 to create, ~0 to update, +-0 to replace, -0 to delete, 252 unchanged" in text
    assert "changes: +0 to create, ~0 to update, +-0 to replace, -0 to delete, 795 unchanged" in text


def test_diff_of_a_one_key_edit_shows_the_change_and_exits_3(baseline, tmp_path: Path) -> None:
    out, _ = baseline
    project = copy_project(tmp_path / "project")
    edit_stack(project, "us-east", flowLogRetentionDays=90)
    report = tmp_path / "report.json"
    code, text, _ = run("--project", str(project), "plan", "--stack", "us-east", "--summary-only",
                        "--diff", str(out), "--json", str(report), "--detailed-exitcode")
    assert code == 3
    lines = [line.strip() for line in text.splitlines()]
    assert "~ aws.cloudwatch.LogGroup  hse-us-east-flow-logs-group" in lines
    assert "~ retentionInDays: 365 → 90" in lines
    # The admin VPN's connection log keeps the same retention as the flow logs.
    assert "~ aws.cloudwatch.LogGroup  hse-us-east-admin-vpn-connections" in lines
    assert "us-east: +0 to create, ~2 to update, +-0 to replace, -0 to delete, 314 unchanged" in lines
    data = json.loads(report.read_text())
    assert data["changes"] is True
    (stack,) = data["stacks"]
    flow_logs = {
        "urn": "urn:pulumi:us-east::hse::hse:network:RegionStack$hse:network:FlowLogs$"
               "aws:cloudwatch/logGroup:LogGroup::hse-us-east-flow-logs-group",
        "type": "aws:cloudwatch/logGroup:LogGroup",
        "changes": [{"path": "retentionInDays", "old": 365, "new": 90}]}
    assert flow_logs in stack["diff"]["update"] and len(stack["diff"]["update"]) == 2
    assert stack["diff"]["create"] == [] and stack["diff"]["delete"] == [] and stack["diff"]["unchanged"] == 314
    assert stack["counts"] == {"total": 316, "cloud": 282, "components": 28, "providers": 6, "reads": 0}


def test_diff_lists_creates_deletes_and_removed_stacks(baseline, tmp_path: Path) -> None:
    out, _ = baseline
    project = copy_project(tmp_path / "project")
    (project / "Pulumi.ap-se.yaml").unlink()
    edit_stack(project, "us-east", natGatewayCount=2)
    code, text, _ = run("--project", str(project), "plan", "--all", "--summary-only", "--diff", str(out))
    # Removing ap-se's stack file deletes its protected data stores: the engine would refuse.
    assert code == 1
    assert ('error: unable to delete resource "urn:pulumi:ap-se::hse::hse:data:ReplicaDatabase$'
            'aws:rds/cluster:Cluster::hse-ap-se-db-cluster"') in text
    assert ("error: aws.rds.Cluster hse-ap-se-db-cluster has deletionProtection on: AWS refuses to delete it, so "
            "`pulumi up` would stop half-way") in text
    assert "error: preview failed: 7 step(s) the real engine or AWS refuses (see the errors above)" in text
    lines = [line.strip() for line in text.splitlines()]
    assert "- aws.ec2.NatGateway  hse-us-east-nat-us-east-1c" in lines
    assert "- aws.ec2.Eip  hse-us-east-nat-us-east-1c" in lines
    # The third AZ's egress now goes through the first NAT gateway (round-robin).
    assert "~ aws.ec2.Route  hse-us-east-app-us-east-1c-egress" in lines
    assert "=== stack ap-se (no stack file any more) ===" in lines
    assert "ap-se: +0 to create, ~0 to update, +-0 to replace, -252 to delete, 0 unchanged" in lines


def test_a_new_stack_diffs_as_all_creates(baseline, tmp_path: Path) -> None:
    out, _ = baseline
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "us-east.json").write_text((out / "us-east.json").read_text())
    code, text, _ = run("plan", "--stack", "eu-west", "--summary-only", "--diff", str(partial), "--detailed-exitcode")
    assert code == 3
    assert "no earlier plan of eu-west: every resource is new" in text
    assert "eu-west: +227 to create, ~0 to update, +-0 to replace, -0 to delete, 0 unchanged" in text


def test_out_replaces_the_folder_whole(baseline, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "stale-stack.json").write_text("{}")
    code, _, _ = run("plan", "--stack", "us-east", "--summary-only", "--out", str(out))
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["us-east.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plan.")], "staging folder left behind"


def test_invalid_config_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    edit_stack(project, "eu-west", vpcCidr="10.0.0.0/16")
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.json").write_text("{}")
    code, text, err = run("--project", str(project), "plan", "--all", "--out", str(out), "--json", str(tmp_path / "j.json"))
    assert code == 2
    assert "Pulumi.eu-west.yaml: hse:vpcCidr: 10.0.0.0/16 overlaps 10.0.0.0/16 of Pulumi.us-east.yaml" in err
    assert text == ""  # validation comes before any planning
    assert [p.name for p in out.iterdir()] == ["keep.json"] and not (tmp_path / "j.json").exists()


def test_unwritable_out_is_an_error_without_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run("plan", "--stack", "us-east", "--summary-only", "--out", str(blocker))
    assert code == 1
    assert err.startswith(f"error: --out {blocker}: exists and is not a folder")
    code, _, err = run("plan", "--stack", "us-east", "--summary-only", "--out", str(blocker / "below"))
    assert code == 1 and "cannot write" in err and "Traceback" not in err


def test_missing_diff_folder_is_an_error(tmp_path: Path) -> None:
    code, _, err = run("plan", "--stack", "us-east", "--diff", str(tmp_path / "nope"))
    assert code == 1
    assert f"error: --diff {tmp_path / 'nope'}: no such folder" in err


@pytest.mark.parametrize("content,message", [
    (None, "Pulumi.yaml: not found in"),
    ("description: no name here\n", "Pulumi.yaml: has no 'name:'; the project name is also its config namespace"),
])
def test_project_folder_problems_exit_2(tmp_path: Path, content, message) -> None:
    if content is not None:
        (tmp_path / "Pulumi.yaml").write_text(content)
    for command in (["plan", "--all"], ["validate"]):
        code, _, err = run("--project", str(tmp_path), *command)
        assert code == 2, command
        assert message in err and "Traceback" not in err


def test_unknown_stack_is_a_clear_error() -> None:
    code, _, err = run("plan", "--stack", "us-west")
    assert code == 2
    assert "Pulumi.us-west.yaml: no such stack file (stacks in this project: ap-se, eu-west, us-east)" in err


def test_usage_errors_exit_2_with_usage() -> None:
    with pytest.raises(SystemExit) as info:
        main(["plan"], out=io.StringIO(), err=io.StringIO())
    assert info.value.code == 2


def test_a_yaml_error_in_one_file_does_not_hide_the_others(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "Pulumi.eu-west.yaml").write_text("config:\n  hse:role: [secondary\n")
    edit_stack(project, "ap-se", appPort=80)
    code, _, err = run("--project", str(project), "validate")
    assert code == 2
    assert "  - Pulumi.eu-west.yaml: cannot be read as YAML" in err
    assert "  - Pulumi.ap-se.yaml: hse:appPort: 80 is out of range; expected an unprivileged port, 1024 to 65535" in err


def test_validate_reports_every_stack() -> None:
    code, text, _ = run("validate")
    assert code == 0
    assert text.splitlines() == [
        "us-east: valid (primary, us-east-1, 10.0.0.0/16, deploy order 0)",
        "eu-west: valid (secondary, eu-west-1, 10.1.0.0/16, deploy order 1)",
        "ap-se: valid (secondary, ap-southeast-1, 10.2.0.0/16, deploy order 2)",
    ]


def test_validate_lists_problems_of_all_stacks_once(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    edit_stack(project, "eu-west", appInstanceCount=0)
    edit_stack(project, "ap-se", awsRegion="ap-southeast-9")
    code, _, err = run("--project", str(project), "validate")
    assert code == 2
    problems = sorted(line for line in err.splitlines() if line.startswith("  - "))
    assert len(problems) == 2
    assert problems[0].startswith("  - Pulumi.ap-se.yaml: hse:awsRegion: 'ap-southeast-9' is not an AWS region")
    assert problems[1] == "  - Pulumi.eu-west.yaml: hse:appInstanceCount: 0 is below 1; a region runs at least one application instance"


def test_piped_into_head_ends_quietly_with_141() -> None:
    # `plan | head -1`: the reader goes away after one line.
    process = subprocess.Popen([sys.executable, "-m", "infra.cli", "plan", "--all"], cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    process.stdout.close()
    process.wait(timeout=300)
    stderr = process.stderr.read()
    assert first.startswith("=== stack us-east ===")
    assert process.returncode == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize("env,no_color_flag,coloured", [
    ({}, False, False),                                          # a pipe or file: plain
    ({"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}, False, True),  # as on a terminal
    ({"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}, True, False),  # --no-color wins
    ({"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}, False, False),  # so does NO_COLOR
])
def test_colour_only_on_a_terminal_and_never_when_turned_off(monkeypatch, env, no_color_flag, coloured) -> None:
    from infra.cli.main import make_console
    from infra.cli.render import Renderer

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    buffer = io.StringIO()
    Renderer(make_console(buffer, no_color=no_color_flag)).heading("stack us-east")
    assert ("\x1b[" in buffer.getvalue()) is coloured
    assert "=== stack us-east ===" in buffer.getvalue()


def test_the_readme_sample_is_what_the_plan_prints(baseline) -> None:
    _, text = baseline
    readme = (PROJECT_DIR / "README.md").read_text()
    sample = readme.split("A shortened sample of `plan --all --verbose`:", 1)[1].split("```", 2)[1]
    printed = {" ".join(line.split()) for line in text.splitlines()}
    for line in sample.splitlines():
        if line.strip() and not line.startswith("...") and "├─" not in line and "└─" not in line:
            assert " ".join(line.split()) in printed, line


def test_a_single_stack_diff_does_not_report_the_other_stacks_as_deleted(baseline) -> None:
    out, _ = baseline
    code, text, _ = run("plan", "--stack", "eu-west", "--summary-only", "--diff", str(out), "--detailed-exitcode")
    assert code == 0
    assert "no stack file any more" not in text


def test_an_interrupted_out_leaves_the_old_folder_and_no_staging(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "keep.json").write_text("{}")

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    code, _, err = run("plan", "--stack", "us-east", "--summary-only", "--out", str(out))
    monkeypatch.undo()
    assert code == 130 and err == "interrupted; nothing was written\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]
    assert [p.name for p in out.iterdir()] == ["keep.json"]


def test_a_failed_json_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    import infra.cli.main as cli
    import infra.domain.outfile as outfile

    report = tmp_path / "report.json"
    report.write_text("old")

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outfile.os, "replace", full)
    with pytest.raises(cli.UserError, match="--json .*report.json: cannot write .*No space left on device"):
        cli.write_json(report, {"version": 1})
    assert report.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_plan_with_policy_ends_with_each_verdict(tmp_path) -> None:
    code, text, _ = run("plan", "--all", "--summary-only", "--policy")
    assert code == 0
    for stack in ("us-east", "eu-west", "ap-se"):
        assert f"{stack}: PASS — 0 mandatory, 0 advisory violation(s)" in text
    # Config the validation allows (a dev stack's short retention) but the pack forbids: exit 4.
    project = copy_project(tmp_path / "project")
    edit_stack(project, "us-east", dbBackupRetentionDays=7, dbAllowShortRetention=True)
    code, text, _ = run("--project", str(project), "plan", "--stack", "us-east", "--summary-only", "--policy",
                        "--out", str(tmp_path / "out"))
    assert code == 4
    assert "us-east: FAIL — 2 mandatory" in text and "rds-backup-retention" in text
    assert (tmp_path / "out" / "us-east.json").exists(), "the plan is written even when the pack fails"
