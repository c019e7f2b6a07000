"""The operational subcommands of `python -m infra.cli`: deploy, drill, failover,
failback, failover-status and hpa-reconcile. `register` adds them to the CLI's parser; each returns an
exit code and reports a user's mistake as one line (`UserError`), never a traceback.

Everything checkable from the command line and the stack files (stacks, regions, numbers
and their ranges, flags that need or exclude another) is checked before any AWS client is
made, and refused as a usage error (`UsageError`, exit 2). Exit codes: `EXIT_CODES` in
infra/cli/errors.py, the epilog of every subcommand's `--help` (a promise of the local
drill that did not hold: 4).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import yaml

from infra.cli.errors import EXIT_CODES, EXIT_POLICY, UsageError, UserError
from infra.domain.outfile import STDOUT, OutputError, check_target, write_text
from infra.ops.timeline import Outcome

DEFAULT_STATE_TABLE = "hse-production-failover-state"
DEFAULT_HOLD_DOWN = 900

# The range of every number of seconds the ops commands take: (lowest, highest).
WINDOW_RANGE = (60, 86400)
"""A rolling deployment's (or a blue-green switch's) monitoring window: one health-alarm
period (60 s) at least, a day at most."""
POLL_RANGE = (1, 3600)
"""Seconds between health reads in a window; never longer than the window itself."""
HOLD_DOWN_RANGE = (0, 86400)
"""The failover's anti-flapping hold-down: 0 (none, as --force) to a day."""
STEP_HOLD_RANGE = (30, 3600)
"""How long a failback holds each weight: one health read (30 s) at least, an hour at most."""


def _user_error(message: str) -> Exception:
    return UserError(message)


# -- what is checked before any AWS call ----------------------------------------------------
def _project_stacks(args: argparse.Namespace) -> list[str]:
    from infra.config import deploy_order
    from infra.config.stackfiles import Project

    return deploy_order(Project(args.project))


def _check_stack(args: argparse.Namespace, stacks: list[str]) -> None:
    if args.stack not in stacks:
        raise UsageError(f"--stack {args.stack}: no such stack; stacks: {', '.join(stacks)}")


def state_regions(project_dir: Path) -> list[str]:
    """The regions of the failover state table the stack files declare: the controller's
    region (the first secondary in deploy order) first, then the table's replicas (every
    other region of the platform). Empty when the project declares no controller (one stack)."""
    from infra.config import NAMESPACE, deploy_order
    from infra.config.stackfiles import Project

    project = Project(project_dir)
    stacks = deploy_order(project)
    regions = {s: project.stack_file(s).config.get(f"{NAMESPACE}:awsRegion") for s in stacks}
    roles = {s: project.stack_file(s).config.get(f"{NAMESPACE}:role") for s in stacks}
    secondaries = [s for s in stacks if roles[s] != "primary"]
    if not secondaries or len(secondaries) == len(stacks):
        return []
    ordered = [regions[secondaries[0]], *(regions[s] for s in stacks if s != secondaries[0])]
    return [r for r in dict.fromkeys(ordered) if r]


def _check_state_region(args: argparse.Namespace) -> None:
    from infra.domain.topology import REGIONS

    region = args.state_region
    known = state_regions(args.project)
    choices = (f"give one of {known[0]} (the controller's), {', '.join(known[1:])}" if known
               else "give the region of the state table")
    if not region:
        raise UsageError(f"--state-region is required (or HSE_STATE_REGION): the region of the state table "
                         f"replica to use; {choices}")
    if region not in REGIONS:
        raise UsageError(f"--state-region {region}: not an AWS region; {choices}")
    if known and region not in known:
        raise UsageError(f"--state-region {region}: the stack files put no replica of the failover state table "
                         f"there; {choices}")


def _check_deploy(args: argparse.Namespace) -> None:
    if args.poll > args.window:
        raise UsageError(f"--poll {args.poll} is longer than --window {args.window}: "
                         "give a poll interval within the window")
    if not args.blue_green:
        given = [flag for flag, value in (("--stack", args.stack), ("--to", args.to)) if value]
        if given:
            raise UsageError(f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} --blue-green: "
                             "a rolling deployment covers every stack")
        return
    if not args.stack or not args.to:
        raise UsageError("--blue-green needs --stack and --to (blue or green)")
    _check_stack(args, _project_stacks(args))


def _check_drill(args: argparse.Namespace) -> None:
    if args.endpoint_url and args.moto_server:
        raise UsageError("--endpoint-url and --moto-server exclude each other")
    if args.plan_dir is not None and args.plan_dir.exists() and not args.plan_dir.is_dir():
        raise UsageError(f"--plan-dir {args.plan_dir}: is a file; --plan-dir takes the folder "
                         f"`plan --all --out DIR` wrote")


def _guarded(func: Callable[[argparse.Namespace, Any], int]) -> Callable[[argparse.Namespace, Any], int]:
    """Known failures of the AWS and Pulumi side as one-line errors."""
    def run(args: argparse.Namespace, console: Any) -> int:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        from infra.ops.drill import DrillError
        from infra.domain.platform import PlatformError
        from infra.ops.rollout import MissingTool
        try:
            return func(args, console)
        except (PlatformError, MissingTool, DrillError) as exc:
            raise _user_error(str(exc)) from None
        except (NoCredentialsError, NoRegionError) as exc:
            raise _user_error(f"AWS: {exc} (set AWS_PROFILE or credentials, or --endpoint-url for an emulator)") \
                from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise _user_error(f"AWS {exc.operation_name}: {error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise _user_error(f"AWS: {exc}") from None
    return run


def print_outcome(outcome: Outcome, console: Any) -> int:
    console.print(f"{outcome.operation}: {outcome.action} - {outcome.detail}")
    for step in outcome.steps:
        console.print(f"  {step.name:<10} {step.modeled_seconds:>6.0f} s  {step.detail}")
    return outcome.code


def instance_counts(project_dir: Path, stacks: list[str]) -> dict[str, int]:
    from infra.config import load_stack
    from infra.config.stackfiles import Project

    project = Project(project_dir)
    return {s: load_stack(project, s).app.instance_count for s in stacks}


# -- the state store and the controller ---------------------------------------------------
def _store(args: argparse.Namespace):
    from infra.ops.clients import Clients
    from infra.ops.clock import Clock
    from infra.ops.state import StateStore

    _check_state_region(args)
    clients = Clients(endpoint_url=args.endpoint_url)
    return clients, StateStore(clients, args.state_region, args.state_table, Clock())


@_guarded
def cmd_failover(args: argparse.Namespace, console: Any) -> int:
    from infra.ops.clock import Clock
    from infra.ops.failover import Controller, Settings
    from infra.ops.signals import Signal

    _check_stack(args, _project_stacks(args))
    if args.force and args.hold_down is not None:
        raise UsageError("--force and --hold-down exclude each other: --force ignores the hold-down")
    clients, store = _store(args)
    hold_down = DEFAULT_HOLD_DOWN if args.hold_down is None else args.hold_down
    settings = Settings(hold_down_seconds=0 if args.force else hold_down, dry_run=args.dry_run)
    controller = Controller(clients, store, Clock(), settings, hpa_api=_hpa_api(args))
    controller.platform.region(args.stack)  # a stack the state table does not know is a one-line error
    return print_outcome(controller.handle(Signal(args.stack, args.component, "ALARM", "operator", operator=True)), console)


@_guarded
def cmd_failback(args: argparse.Namespace, console: Any) -> int:
    from infra.ops.clock import Clock
    from infra.ops.failback import Failback, FailbackSettings

    clients, store = _store(args)
    settings = FailbackSettings(step_hold_seconds=args.step_hold, dry_run=args.dry_run)
    return print_outcome(Failback(clients, store, Clock(), settings, hpa_api=_hpa_api(args)).run(), console)


def _hpa_api(args: argparse.Namespace):
    """With --apply-hpa: each region's cluster through the kubeconfig context named after it."""
    if not args.apply_hpa:
        return None
    from infra.ops.hpa import api_for_region

    return api_for_region


@_guarded
def cmd_hpa_reconcile(args: argparse.Namespace, console: Any) -> int:
    """Apply the HPA minimum the controller recorded for a region (`infra/ops/hpa.py`)."""
    from infra.ops.hpa import HpaError, HpaReconciler, kubernetes_api

    _check_stack(args, _project_stacks(args))
    _, store = _store(args)
    region = store.platform().region(args.stack)
    try:
        api = kubernetes_api(context=args.context or region.eks_cluster_name, in_cluster=args.in_cluster)
        console.print(f"{args.stack}: {HpaReconciler(api).from_state(store, args.stack)}")
    except HpaError as exc:
        raise _user_error(str(exc)) from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("kubernetes", "urllib3"):
            raise _user_error(f"Kubernetes API of {region.eks_cluster_name}: {type(exc).__name__}: {exc}") from None
        raise
    return 0


@_guarded
def cmd_status(args: argparse.Namespace, console: Any) -> int:
    from infra.ops.state import StateReader

    _, store = _store(args)
    reader = StateReader(store)
    console.print(json.dumps({"failover": reader.failover_status(), "regions": reader.regions_status()}, indent=2))
    return 0


# -- deploy ---------------------------------------------------------------------------------
@_guarded
def cmd_deploy(args: argparse.Namespace, console: Any) -> int:
    from infra.config import deploy_order
    from infra.ops.clients import Clients
    from infra.ops.clock import Clock
    from infra.domain.platform import Platform, RegionRecord
    from infra.ops.rollout import AutomationDeployer, BlueGreen, Gate, Rollout, RolloutSettings
    from infra.config.stackfiles import Project

    _check_deploy(args)
    stacks = deploy_order(Project(args.project))
    counts = instance_counts(args.project, stacks)
    deployer = AutomationDeployer(args.project, on_output=lambda line: console.print(line.rstrip()))
    clients = Clients(endpoint_url=args.endpoint_url)

    def platform(names: list[str]) -> Platform:
        return Platform.of(RegionRecord.from_outputs(deployer.outputs(s), counts[s]) for s in names)

    if args.blue_green:
        if not args.dry_run:
            deployer.preflight()
        switch = BlueGreen(clients, Clock(), window_seconds=args.window, poll_seconds=args.poll)
        if args.dry_run:
            console.print(f"dry run: {args.stack}: live-{args.stack}.<domain> -> {args.stack}-{args.to}.<domain>, "
                          f"watch {args.window} s, roll back on a failing health check")
            return 0
        region = platform([s for s in stacks if stacks.index(s) <= stacks.index(args.stack)]).region(args.stack)
        return print_outcome(switch.switch(region, args.to), console)

    settings = RolloutSettings(tuple(stacks), window_seconds=args.window, poll_seconds=args.poll,
                               dry_run=args.dry_run)
    rollout = Rollout(deployer, settings, Clock(), out=console.print,
                      gate_for=lambda: (Gate(clients, Clock()),
                                        lambda s: platform(stacks[: stacks.index(s) + 1]).region(s)))
    return print_outcome(rollout.run(), console)


# -- drill ----------------------------------------------------------------------------------
def _with_residency_tenant(project_dir: Path, primary: str) -> Path:
    from infra.ops.drill import RESIDENCY_TENANT

    copy = Path(tempfile.mkdtemp(prefix="hse-drill-"))
    for path in project_dir.glob("Pulumi*.yaml"):
        shutil.copy(path, copy / path.name)
    stack_file = copy / f"Pulumi.{primary}.yaml"
    data = yaml.safe_load(stack_file.read_text())
    data["config"]["hse:edgeTenantRouting"] = [RESIDENCY_TENANT]
    stack_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return copy


LOCAL_ONLY = (("clock_scale", "--clock-scale"), ("synchronous", "--synchronous"), ("json", "--json"))
NOT_LOCAL = (("plan_dir", "--plan-dir"), ("endpoint_url", "--endpoint-url"), ("moto_server", "--moto-server"))


def _check_drill_flags(args: argparse.Namespace) -> None:
    from infra.local.scenarios import SCENARIOS as LOCAL_SCENARIOS
    from infra.ops.drill import SCENARIOS

    if not args.local:
        given = [flag for name, flag in LOCAL_ONLY if getattr(args, name) not in (None, False)]
        if given:
            raise UsageError(f"{', '.join(given)} needs --local: it applies to the drill on local servers")
        wrong = [s for s in args.scenario or [] if s not in SCENARIOS]
        if wrong:
            raise UsageError(f"--scenario {wrong[0]} is a scenario of the local drill; add --local "
                             f"(the emulator's: {', '.join(SCENARIOS)})")
        return
    given = [flag for name, flag in NOT_LOCAL if getattr(args, name) not in (None, False)]
    if given:
        raise UsageError(f"--local runs on local servers; {', '.join(given)} belongs to the emulator's drill")
    wrong = [s for s in args.scenario or [] if s not in LOCAL_SCENARIOS]
    if wrong:
        raise UsageError(f"--scenario {wrong[0]} is not a scenario of the local drill; "
                         f"scenarios: {', '.join(LOCAL_SCENARIOS)}")


def cmd_drill_local(args: argparse.Namespace, console: Any) -> int:
    """The drill on local servers: exit 0 when every promise held, 4 when one did not."""
    import time

    from infra.local.drill import LocalDrill
    from infra.local.platform import LocalPlatform
    from infra.local.record import print_table, to_json
    from infra.local.scenarios import with_prerequisites
    from infra.local.servers import ServerError

    scale = args.clock_scale or 1.0
    scenarios = with_prerequisites(args.scenario or [])
    target = args.json or Path("drill.json")
    if str(target) == STDOUT:
        raise UsageError("--json -: the drill prints its timelines on standard output; give a file")
    try:
        check_target(target)  # before a minute of drill, not after
    except OutputError as exc:
        raise UsageError(f"--json {exc}") from None
    started = time.perf_counter()
    console.print(f"local drill: {', '.join(scenarios)} (drill clock x{scale:g}"
                  f"{', synchronous replication to one standby' if args.synchronous else ''})")
    try:
        with LocalPlatform(args.project, clock_scale=scale, synchronous=args.synchronous) as local:
            servers = [f"{s} (PostgreSQL :{r.node.port}, PgBouncer :{r.pool.port} pool {r.pool.size}, "
                       f"redis :{r.redis.port}, app :{r.app_port})" for s, r in local.regions.items()]
            console.print("up: " + ", ".join(servers))
            results = LocalDrill(local, _ConsoleWriter(console)).run(scenarios)
    except ServerError as exc:
        raise _user_error(str(exc)) from None
    wall = time.perf_counter() - started
    print_table(results, _ConsoleWriter(console))
    try:
        write_text(target, json.dumps(to_json(results, scale, args.synchronous, wall), indent=2, default=str) + "\n")
    except OutputError as exc:
        raise _user_error(f"--json {exc}") from None
    passed = sum(r.passed for r in results)
    console.print(f"\nlocal drill: {passed} of {len(scenarios)} scenarios held their promises in {wall:.1f} s; "
                  f"wrote {target}; every server stopped")
    return 0 if passed == len(scenarios) else EXIT_POLICY


@_guarded
def cmd_drill(args: argparse.Namespace, console: Any) -> int:
    _check_drill_flags(args)
    if args.local:
        return cmd_drill_local(args, console)
    from infra.config import deploy_order
    from infra.engine import Engine
    from infra.ops.drill import SCENARIOS, moto_server
    from infra.ops.plans import PlanView, read_plan_dir
    from infra.config.stackfiles import Project

    _check_drill(args)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "drill")  # the emulator takes any credentials
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "drill")
    stacks = deploy_order(Project(args.project))
    counts = instance_counts(args.project, stacks)
    views = (read_plan_dir(args.plan_dir, stacks) if args.plan_dir
             else [PlanView.of(p) for p in Engine(args.project).plan_all()])
    scenarios = args.scenario or list(SCENARIOS)
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(moto_server()) if args.moto_server else args.endpoint_url
        if args.moto_server:
            console.print(f"(moto server on {endpoint})")
        failed = _drill_scenarios(args, console, views, counts, scenarios, endpoint,
                                  emulate=not args.endpoint_url)
    console.print(f"\ndrill: {len(scenarios) - failed} of {len(scenarios)} scenarios passed")
    return 1 if failed else 0


def _drill_scenarios(args: argparse.Namespace, console: Any, views: list, counts: dict[str, int],
                     scenarios: list[str], endpoint: Any, emulate: bool) -> int:
    from infra.engine import Engine
    from infra.ops.drill import binds_a_tenant, print_result, run_scenario
    from infra.ops.plans import PlanView

    failed = 0
    for name in scenarios:
        these = views
        if name == "residency" and not binds_a_tenant(views):
            primary = next(v.stack for v in views if v.outputs.get("role") == "primary")
            copy = _with_residency_tenant(args.project, primary)
            try:
                these = [PlanView.of(p) for p in Engine(copy).plan_all()]
            finally:
                shutil.rmtree(copy, ignore_errors=True)
            console.print(f"(residency: the plans bind no tenant; planned a copy with hse:edgeTenantRouting "
                          f"on {primary})")
        result = run_scenario(name, these, counts, endpoint, emulate)
        print_result(result, _ConsoleWriter(console))
        failed += not result.passed
    return failed


class _ConsoleWriter:
    def __init__(self, console: Any):
        self.console = console

    def write(self, text: str) -> None:
        self.console.print(text.rstrip("\n"))


def _state_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-region", default=os.environ.get("HSE_STATE_REGION", ""),
                        help="region of the state table replica to use (or HSE_STATE_REGION)")
    parser.add_argument("--state-table", default=os.environ.get("HSE_STATE_TABLE", DEFAULT_STATE_TABLE),
                        help=f"state table name (or HSE_STATE_TABLE; default {DEFAULT_STATE_TABLE})")
    parser.add_argument("--endpoint-url", help="an AWS-compatible endpoint (e.g. a moto server) for every call")


def _seconds(bounds: tuple[int, int]) -> Callable[[str], int]:
    """An argparse type: a whole number of seconds within `bounds` (both included)."""
    low, high = bounds

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds; "
                                             f"give {low} to {high}") from None
        if not low <= value <= high:
            why = "is negative" if value < 0 else "is out of range"
            raise argparse.ArgumentTypeError(f"{value} {why}; give {low} to {high} seconds")
        return value
    return parse


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= 600:
        raise argparse.ArgumentTypeError(f"{text} is out of range; give 1 (real time) to 600")
    return value


# What Ctrl-C leaves behind, per command that acts on AWS or starts processes (the others
# write nothing until they finish: see `main`). A dry run changes nothing and says so.
INTERRUPTED = {
    "deploy": "interrupted: the rollout stopped where it was; the regions it already deployed or switched stay "
              "so (docs/runbooks/rolling-deployment.md: how to go on or roll back)",
    "failover": "interrupted: the steps already taken in AWS stand and the platform lock is released; "
                "failover-status and the state table's timeline show how far it got: read them before running "
                "failover again (docs/runbooks/failover.md)",
    "failback": "interrupted: the steps already taken in AWS stand and the platform lock is released; "
                "failover-status and the state table's timeline show how far it got: read them before running "
                "failback again (docs/runbooks/failback.md)",
    "hpa-reconcile": "interrupted: the HPAs already patched keep the recorded minimum; hpa-reconcile again "
                     "applies it to the rest",
    "drill": "interrupted: every server and process the drill started was stopped; no drill file was written",
}


def interrupted_message(args: argparse.Namespace) -> str:
    """The line Ctrl-C prints for this command line."""
    if getattr(args, "dry_run", False):
        return "interrupted (a dry run): nothing was changed"
    return INTERRUPTED.get(getattr(args, "command_name", ""), "interrupted; nothing was written")


def register(sub: argparse._SubParsersAction) -> None:
    from infra.ops.drill import SCENARIOS
    from infra.ops.rollout import COLOURS, SPEC_WINDOW_SECONDS

    deploy = sub.add_parser("deploy", help="rolling deployment (us-east, window, eu-west, window, ap-se) "
                                           "or a blue-green switch, through the Automation API")
    deploy.add_argument("--window", type=_seconds(WINDOW_RANGE), default=SPEC_WINDOW_SECONDS,
                        help=f"monitoring window after each region, seconds, {WINDOW_RANGE[0]} to {WINDOW_RANGE[1]} "
                             f"(spec: {SPEC_WINDOW_SECONDS})")
    deploy.add_argument("--poll", type=_seconds(POLL_RANGE), default=60,
                        help=f"seconds between health reads in a window, {POLL_RANGE[0]} to {POLL_RANGE[1]} "
                             f"and at most --window (default 60)")
    deploy.add_argument("--dry-run", action="store_true", help="print the steps; deploy nothing")
    deploy.add_argument("--blue-green", action="store_true", help="switch a region's live colour instead")
    deploy.add_argument("--stack", help="the region to switch (with --blue-green)")
    deploy.add_argument("--to", choices=COLOURS, help="the colour to make live (with --blue-green)")
    deploy.add_argument("--endpoint-url", help="an AWS-compatible endpoint for the health reads")
    deploy.set_defaults(func=cmd_deploy)

    from infra.local.scenarios import SCENARIOS as LOCAL_SCENARIOS

    drill = sub.add_parser("drill", help="the DR drill on an AWS emulator seeded from the offline plans, "
                                         "or (--local) on real servers on loopback")
    drill.add_argument("--scenario", action="append", choices=list(dict.fromkeys(SCENARIOS + LOCAL_SCENARIOS)),
                       help="run only this scenario (repeatable; with --local, also the ones it starts from)")
    drill.add_argument("--local", action="store_true",
                       help="bring the platform up on loopback (PostgreSQL streaming replication, PgBouncer, "
                            "redis-server, the reference app), run the scenarios under load, stop it all")
    drill.add_argument("--clock-scale", type=_scale, metavar="N",
                       help="with --local: every policy duration (5 minutes healthy, holds, hold-down, TTL, "
                            "health-check interval, RPO budget) divided by N (default 1: real time)")
    drill.add_argument("--synchronous", action="store_true",
                       help="with --local: each commit waits for one standby (synchronous_standby_names FIRST 1)")
    drill.add_argument("--json", type=Path, metavar="FILE",
                       help="with --local: where to write the measured drill (default drill.json; "
                            "report --drill reads it)")
    drill.add_argument("--plan-dir", type=Path, help="read plans from DIR (plan --all --out DIR) instead of planning")
    drill.add_argument("--endpoint-url", help="run against this AWS-compatible endpoint instead of moto in this "
                                              "process (nothing stubbed there)")
    drill.add_argument("--moto-server", action="store_true",
                       help="start a moto server on loopback and run over HTTP (the stubs still apply)")
    drill.set_defaults(func=cmd_drill)

    failover = sub.add_parser("failover", help="fail a region over now (what the controller does on an alarm)")
    failover.add_argument("--stack", required=True, help="the failed region's stack")
    failover.add_argument("--component", choices=("region", "database", "cache"), default="region")
    failover.add_argument("--force", action="store_true", help="ignore the hold-down (an operator's decision)")
    failover.add_argument("--hold-down", type=_seconds(HOLD_DOWN_RANGE),
                          help=f"anti-flapping hold-down, seconds, {HOLD_DOWN_RANGE[0]} to {HOLD_DOWN_RANGE[1]} "
                               f"(default {DEFAULT_HOLD_DOWN}; not with --force)")
    failover.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    failover.add_argument("--apply-hpa", action="store_true",
                          help="also patch the promoted region's HPA minimum through its cluster's API "
                               "(kubeconfig context named after the EKS cluster)")
    _state_args(failover)
    failover.set_defaults(func=cmd_failover)

    failback = sub.add_parser("failback", help="return to the original primary (gated: 5 min healthy, lag under the RPO)")
    failback.add_argument("--step-hold", type=_seconds(STEP_HOLD_RANGE), default=120,
                          help=f"seconds each weight step is held, {STEP_HOLD_RANGE[0]} to {STEP_HOLD_RANGE[1]} "
                               f"(default 120)")
    failback.add_argument("--dry-run", action="store_true", help="check the gates and print the plan")
    failback.add_argument("--apply-hpa", action="store_true",
                          help="also patch the interim region's HPA minimum back through its cluster's API")
    _state_args(failback)
    failback.set_defaults(func=cmd_failback)

    reconcile = sub.add_parser("hpa-reconcile", help="apply the HPA minimum the controller recorded for a region "
                                                     "(REGION#<stack>/CAPACITY) through its cluster's API")
    reconcile.add_argument("--stack", required=True, help="the region whose HPAs to patch")
    reconcile.add_argument("--context", help="kubeconfig context (default: the region's EKS cluster name)")
    reconcile.add_argument("--in-cluster", action="store_true",
                           help="use the pod's service account (a CronJob in the cluster)")
    _state_args(reconcile)
    reconcile.set_defaults(func=cmd_hpa_reconcile)

    status = sub.add_parser("failover-status", help="what /api/health/failover and /api/regions/status answer")
    _state_args(status)
    status.set_defaults(func=cmd_status)

    for name in ("deploy", "drill", "failover", "failback", "hpa-reconcile", "failover-status"):
        sub.choices[name].epilog = EXIT_CODES  # the one table, as in the main --help
        sub.choices[name].set_defaults(command_name=name)
        sub.choices[name].formatter_class = argparse.RawDescriptionHelpFormatter


if __name__ == "__main__":  # pragma: no cover - `python -m infra.cli` is the entry
    sys.exit("run: python -m infra.cli deploy|drill|failover|failback|failover-status|hpa-reconcile")
