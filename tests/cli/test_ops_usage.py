"""The ops commands' usage errors: exit 2, one `error: ...` line, and nothing sent to AWS.

Every bad input of deploy, drill, failover, failback, failover-status and hpa-reconcile
is refused from the command line and the stack files alone; a fixture makes any AWS
client (the project's `Clients`, or boto3 directly) raise, so each refusal also proves
that no AWS call was made. Both sides of every numeric bound are asserted: the value
just outside is refused, the bound itself is accepted up to the first AWS client.
Exit codes are literals: they are a contract with scripts and runbooks.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli.errors import EXIT_CODES
from infra.cli.main import main
from tests.conftest import PROJECT_DIR

STACKS = "us-east, eu-west, ap-se"
STATE_REGIONS = "give one of eu-west-1 (the controller's), us-east-1, ap-southeast-1"


class AwsReached(Exception):
    """An AWS client was about to be made."""


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """Any AWS client raises `AwsReached`; HSE_DEBUG lets it through `main` as it is."""
    import boto3
    import boto3.session

    from infra.ops import clients

    def refuse(*args, **kwargs):
        raise AwsReached(args[1:] if args else kwargs)

    monkeypatch.setattr(clients.Clients, "__init__", refuse)
    monkeypatch.setattr(boto3, "client", refuse)
    monkeypatch.setattr(boto3, "resource", refuse)
    monkeypatch.setattr(boto3.session.Session, "client", refuse)
    monkeypatch.setattr(boto3.session.Session, "resource", refuse)
    monkeypatch.setenv("HSE_DEBUG", "1")
    for name in ("HSE_STATE_REGION", "HSE_STATE_TABLE"):
        monkeypatch.delenv(name, raising=False)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--no-color", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def refused_by_argparse(capsys, *argv: str) -> str:
    """Exit 2 from the parser itself; its one `error:` line."""
    with pytest.raises(SystemExit) as exit_:
        run(*argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "UserError" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize("argv, message", [
    # deploy: flags that need another flag, a stack of the project, a poll within the window
    (("deploy", "--blue-green", "--dry-run"), "--blue-green needs --stack and --to (blue or green)"),
    (("deploy", "--blue-green", "--stack", "us-east"), "--blue-green needs --stack and --to (blue or green)"),
    (("deploy", "--blue-green", "--to", "green"), "--blue-green needs --stack and --to (blue or green)"),
    (("deploy", "--blue-green", "--stack", "mars", "--to", "green"), f"--stack mars: no such stack; stacks: {STACKS}"),
    (("deploy", "--stack", "us-east"), "--stack needs --blue-green: a rolling deployment covers every stack"),
    (("deploy", "--to", "green"), "--to needs --blue-green: a rolling deployment covers every stack"),
    (("deploy", "--stack", "us-east", "--to", "green"),
     "--stack and --to need --blue-green: a rolling deployment covers every stack"),
    (("deploy", "--window", "600", "--poll", "601"),
     "--poll 601 is longer than --window 600: give a poll interval within the window"),
    # failover: the stack, the state region, --force against --hold-down
    (("failover", "--stack", "us-west", "--state-region", "eu-west-1"),
     f"--stack us-west: no such stack; stacks: {STACKS}"),
    (("failover", "--stack", "us-east"),
     f"--state-region is required (or HSE_STATE_REGION): the region of the state table replica to use; "
     f"{STATE_REGIONS}"),
    (("failover", "--stack", "us-east", "--state-region", "mars-1"),
     f"--state-region mars-1: not an AWS region; {STATE_REGIONS}"),
    (("failover", "--stack", "us-east", "--state-region", "us-west-2"),
     f"--state-region us-west-2: the stack files put no replica of the failover state table there; {STATE_REGIONS}"),
    (("failover", "--stack", "us-east", "--state-region", "eu-west-1", "--force", "--hold-down", "60"),
     "--force and --hold-down exclude each other: --force ignores the hold-down"),
    # failback and failover-status: the state region
    (("failback", "--state-region", "mars-1"), f"--state-region mars-1: not an AWS region; {STATE_REGIONS}"),
    (("failback", "--state-region", "mars-1", "--dry-run"),
     f"--state-region mars-1: not an AWS region; {STATE_REGIONS}"),
    (("failback", "--state-region", "eu-central-1"),
     f"--state-region eu-central-1: the stack files put no replica of the failover state table there; "
     f"{STATE_REGIONS}"),
    (("failback",), f"--state-region is required (or HSE_STATE_REGION): the region of the state table replica "
                    f"to use; {STATE_REGIONS}"),
    (("failover-status", "--state-region", "EU-WEST-1"),
     f"--state-region EU-WEST-1: not an AWS region; {STATE_REGIONS}"),
    (("failover-status",), f"--state-region is required (or HSE_STATE_REGION): the region of the state table "
                           f"replica to use; {STATE_REGIONS}"),
    # hpa-reconcile shares the state options
    (("hpa-reconcile", "--stack", "mars", "--state-region", "eu-west-1"),
     f"--stack mars: no such stack; stacks: {STACKS}"),
    (("hpa-reconcile", "--stack", "eu-west", "--state-region", "mars-1"),
     f"--state-region mars-1: not an AWS region; {STATE_REGIONS}"),
    # drill: flags that exclude each other
    (("drill", "--endpoint-url", "http://127.0.0.1:5000", "--moto-server"),
     "--endpoint-url and --moto-server exclude each other"),
])
def test_a_usage_error_exits_2_with_one_line_and_no_aws_call(argv, message):
    code, out, err = run(*argv)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_drill_plan_dir_given_a_file_is_a_usage_error(tmp_path: Path):
    plan_file = tmp_path / "us-east.json"
    plan_file.write_text("{}")
    code, out, err = run("drill", "--plan-dir", str(plan_file))
    assert (code, out) == (2, "")
    assert err == (f"error: --plan-dir {plan_file}: is a file; "
                   f"--plan-dir takes the folder `plan --all --out DIR` wrote\n")


def test_the_state_region_from_the_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("HSE_STATE_REGION", "mars-1")
    code, _, err = run("failover-status")
    assert (code, err) == (2, f"error: --state-region mars-1: not an AWS region; {STATE_REGIONS}\n")


# -- numbers: both sides of every bound ----------------------------------------------------
FAILOVER = ("failover", "--stack", "us-east", "--state-region", "eu-west-1")
FAILBACK = ("failback", "--state-region", "eu-west-1")


@pytest.mark.parametrize("argv, message", [
    (("deploy", "--window", "59"), "argument --window: 59 is out of range; give 60 to 86400 seconds"),
    (("deploy", "--window", "86401"), "argument --window: 86401 is out of range; give 60 to 86400 seconds"),
    (("deploy", "--window", "-5"), "argument --window: -5 is negative; give 60 to 86400 seconds"),
    (("deploy", "--window", "half-an-hour"),
     "argument --window: 'half-an-hour' is not a whole number of seconds; give 60 to 86400"),
    (("deploy", "--poll", "0"), "argument --poll: 0 is out of range; give 1 to 3600 seconds"),
    (("deploy", "--poll", "0", "--dry-run"), "argument --poll: 0 is out of range; give 1 to 3600 seconds"),
    (("deploy", "--poll", "3601"), "argument --poll: 3601 is out of range; give 1 to 3600 seconds"),
    (("deploy", "--poll", "1.5"), "argument --poll: '1.5' is not a whole number of seconds; give 1 to 3600"),
    (("deploy", "--blue-green", "--stack", "us-east", "--to", "green", "--poll", "0"),
     "argument --poll: 0 is out of range; give 1 to 3600 seconds"),
    ((*FAILOVER, "--hold-down", "-1"), "argument --hold-down: -1 is negative; give 0 to 86400 seconds"),
    ((*FAILOVER, "--hold-down", "86401"), "argument --hold-down: 86401 is out of range; give 0 to 86400 seconds"),
    ((*FAILBACK, "--step-hold", "29"), "argument --step-hold: 29 is out of range; give 30 to 3600 seconds"),
    ((*FAILBACK, "--step-hold", "3601"), "argument --step-hold: 3601 is out of range; give 30 to 3600 seconds"),
])
def test_a_number_outside_its_range_exits_2_naming_the_range(argv, message, capsys):
    line = refused_by_argparse(capsys, *argv)
    assert line == f"python -m infra.cli {argv[0]}: error: {message}"


@pytest.mark.parametrize("argv", [
    ("deploy", "--window", "60", "--poll", "1"),
    ("deploy", "--window", "60", "--poll", "60"),        # a poll as long as the window
    ("deploy", "--window", "86400", "--poll", "3600"),
    ("deploy", "--blue-green", "--stack", "ap-se", "--to", "blue", "--window", "60", "--poll", "1"),
    (*FAILOVER, "--hold-down", "0"),
    (*FAILOVER, "--hold-down", "86400"),
    (*FAILOVER, "--force"),
    ("failover", "--stack", "ap-se", "--state-region", "ap-southeast-1", "--component", "cache"),
    (*FAILBACK, "--step-hold", "30"),
    (*FAILBACK, "--step-hold", "3600"),
    ("failback", "--state-region", "us-east-1", "--dry-run"),
    ("failover-status", "--state-region", "ap-southeast-1"),
    ("hpa-reconcile", "--stack", "eu-west", "--state-region", "eu-west-1"),
])
def test_a_value_within_its_range_is_accepted_up_to_the_first_aws_client(argv):
    with pytest.raises(AwsReached):
        run(*argv)


def test_a_state_region_from_the_environment_is_accepted(monkeypatch):
    monkeypatch.setenv("HSE_STATE_REGION", "eu-west-1")
    with pytest.raises(AwsReached):
        run("failover-status")


# -- one exit-code table; Ctrl-C and a closed pipe -----------------------------------------
@pytest.mark.parametrize("command", ["deploy", "drill", "failover", "failback", "failover-status", "hpa-reconcile"])
def test_every_ops_help_shows_the_one_exit_code_table(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(command, "--help")
    assert exit_.value.code == 0
    assert EXIT_CODES in capsys.readouterr().out


def test_the_main_help_shows_the_same_table(capsys):
    with pytest.raises(SystemExit) as exit_:
        run("--help")
    assert exit_.value.code == 0
    assert EXIT_CODES in capsys.readouterr().out
    for line in ("  2    usage or invalid configuration", "  4    a mandatory policy is violated",
                 "  130  interrupted (Ctrl-C)", "  141  output closed early"):
        assert line in EXIT_CODES


def test_the_readme_table_covers_the_ops_commands():
    readme = (PROJECT_DIR / "README.md").read_text()
    caption, table = readme.split("| code | meaning |", 1)
    caption = caption.rstrip().rsplit("\n\n", 1)[1]
    for command in ("plan", "report", "drill", "deploy", "failover", "failback", "failover-status"):
        assert f"`{command}`" in caption, command
    rows = [line.split("|")[1].strip() for line in table.split("\n\n", 1)[0].splitlines()[2:]]
    assert rows == ["0", "1", "2", "3", "4", "130", "141"]


def test_ctrl_c_in_an_ops_command_exits_130(monkeypatch):
    from infra.ops import clients

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(clients.Clients, "__init__", interrupted)
    code, _, err = run("failover-status", "--state-region", "eu-west-1")
    assert (code, err) == (130, "interrupted; nothing was written\n")
    code, _, err = run(*FAILOVER, "--dry-run")
    assert (code, err) == (130, "interrupted (a dry run): nothing was changed\n")


@pytest.mark.parametrize("argv, message", [
    (FAILOVER, "interrupted: the steps already taken in AWS stand and the platform lock is released; "
               "failover-status and the state table's timeline show how far it got: read them before running "
               "failover again (docs/runbooks/failover.md)\n"),
    (FAILBACK, "interrupted: the steps already taken in AWS stand and the platform lock is released; "
               "failover-status and the state table's timeline show how far it got: read them before running "
               "failback again (docs/runbooks/failback.md)\n"),
    (("hpa-reconcile", "--stack", "eu-west", "--state-region", "eu-west-1"),
     "interrupted: the HPAs already patched keep the recorded minimum; hpa-reconcile again applies it to the rest\n"),
])
def test_ctrl_c_in_a_command_that_acts_on_aws_says_what_may_stand(monkeypatch, argv, message):
    from infra.ops import clients

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(clients.Clients, "__init__", interrupted)
    assert run(*argv)[::2] == (130, message)


def test_ctrl_c_in_the_local_drill_says_its_servers_were_stopped(monkeypatch, tmp_path):
    import infra.local.platform as platform

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(platform.LocalPlatform, "__init__", interrupted)
    assert run("drill", "--local", "--json", str(tmp_path / "d.json"))[::2] == (
        130, "interrupted: every server and process the drill started was stopped; no drill file was written\n")
    assert not (tmp_path / "d.json").exists()


def test_ctrl_c_during_a_rolling_deployment_exits_130(monkeypatch):
    from infra.ops import clients, rollout

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(clients.Clients, "__init__", lambda self, **kwargs: None)  # a dry run calls nothing
    monkeypatch.setattr(rollout.Rollout, "run", interrupted)
    code, _, _ = run("deploy", "--dry-run")
    assert code == 130


def test_an_ops_command_piped_into_a_closed_reader_exits_141():
    process = subprocess.Popen([sys.executable, "-m", "infra.cli", "deploy", "--dry-run"], cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # the reader is gone before the first line
    process.wait(timeout=120)
    stderr = process.stderr.read()
    assert process.returncode == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize("argv, code, message", [
    (("failover", "--stack", "us-west", "--state-region", "eu-west-1"), 2,
     f"error: --stack us-west: no such stack; stacks: {STACKS}\n"),
    (("failback", "--state-region", "mars-1"), 2,
     f"error: --state-region mars-1: not an AWS region; {STATE_REGIONS}\n"),
])
def test_the_process_exit_code_is_2_without_credentials(argv, code, message):
    """As a newcomer runs it: no AWS credentials at all, and still no word about them."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    process = subprocess.run([sys.executable, "-m", "infra.cli", *argv], cwd=PROJECT_DIR, env=env,
                             capture_output=True, text=True, timeout=120)
    assert (process.returncode, process.stdout, process.stderr) == (code, "", message)
