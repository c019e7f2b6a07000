"""The operator's command line. Run it from the repository root.

    python -m infra.cli plan --all                         # every stack in deploy order
    python -m infra.cli plan --stack eu-west               # one stack (its peers are planned first)
    python -m infra.cli plan --all --out plan/             # also write <stack>.json like `pulumi stack export`
    python -m infra.cli plan --all --diff main-plan/       # what changes against an earlier --out
    python -m infra.cli plan --all --verbose               # also the tree, every type and output
    python -m infra.cli plan --all --policy                # and the policy pack's verdict per stack
    python -m infra.cli flows --all                        # every flow of the spec, hop by hop, on the plans
    python -m infra.cli validate                           # check every stack file, report all problems
    python -m infra.cli routing --markdown docs/routing.md # the routing table the stack files give
    python -m infra.cli report --out report/               # the plan as an HTML page (diagram, map, figures)
    python -m infra.cli report --out report/ --diff main-plan/ --drill drill.json
    python -m infra.cli deploy --dry-run                   # rolling deployment (infra/cli/ops_commands.py)
    python -m infra.cli drill                              # the DR drill on an in-process AWS emulator
    python -m infra.cli failover|failback|failover-status  # operate the failover by hand

`plan` evaluates the program offline (no Pulumi CLI, no cloud account) after
validating every stack file. It prints each stack's resources, counts and outputs;
with `--diff DIR` what would be created, updated and deleted against the plan in DIR.
Secrets are redacted in everything it prints or writes.

Exit codes:
  0  success (with --detailed-exitcode: no changes against --diff)
  1  the real engine or AWS would refuse the change (with --diff: a protected or deletion-
     protected resource deleted or replaced); other errors (unwritable --out, unreadable
     --diff, a failure inside the program)
  2  invalid configuration or usage (nothing was planned or written)
  3  changes present (only with --detailed-exitcode); failback not ready (a gate)
  4  a mandatory policy is violated (only with --policy; with --diff also data-kept: a
     resource holding data deleted or replaced, not named with --allow-data-loss; the
     plan is still written), or a flow is blocked
  130  interrupted (Ctrl-C); nothing half-written is left behind
  141  output closed early (e.g. piped into head)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, TextIO

from rich.console import Console
from rich.text import Text

from infra.cli import ops_commands
from infra.cli.errors import (EXIT_BROKEN_PIPE, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_INVALID_CONFIG,
                              EXIT_OK, EXIT_POLICY, UsageError, UserError)
from infra.domain.jsonfile import JsonFileError, read_json
from infra.domain.outfile import OutputError, write_text
from infra.config import deploy_order, validate_stacks
from infra.engine import Engine, StackPlan
from infra.engine.diff import StackDiff, deleted_stack, diff_exports
from infra.domain.problems import ConfigError
from infra.cli.render import Renderer
from infra.engine.summary import counts, plan_outputs, regions
from infra.domain.routing_table import DeployedRegion, to_markdown
from infra.domain.routing_table import build as build_routing_table
from infra.config.stackfiles import Project, StackFileError

PROJECT_DIR = Path(__file__).resolve().parents[2]
# -- reading and writing plans --------------------------------------------------------
def read_baseline(directory: Path) -> dict[str, dict[str, Any]]:
    """The exports an earlier `plan --out DIR` wrote, by stack name."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--diff {directory}: is a file; --diff takes the folder an earlier "
                         f"`plan --all --out DIR` wrote")
    if not directory.is_dir():
        raise UserError(f"--diff {directory}: no such folder; write one first with `plan --all --out {directory}`")
    exports = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = read_json(path)
        except JsonFileError as exc:
            raise UserError(f"--diff {directory}: {path.name} is not a plan export ({exc.cause})") from None
        if not isinstance(data, dict) or "deployment" not in data:
            raise UserError(f"--diff {directory}: {path.name} is not a plan export (no 'deployment')")
        exports[path.stem] = data
    return exports


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside `target` that replaces it whole on success.

    Nothing from an earlier run survives (a removed stack's file included), and an
    error or Ctrl-C part-way leaves `target` exactly as it was.
    """
    target = target.resolve()
    if target.exists() and not target.is_dir():
        raise UserError(f"--out {target}: exists and is not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise UserError(f"--out {target}: cannot write there ({exc.strerror or exc})") from None
    try:
        yield staging
        old = None
        if target.exists():
            old = target.with_name(f"{staging.name}.old")
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise UserError(f"--out {target}: cannot write there ({exc.strerror or exc})") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_json(path: Path, data: Any, console: Optional[Console] = None, flag: str = "--json") -> None:
    """Write `data` as JSON to `path` (`-`: standard output; links and devices written
    through; a regular file replaced whole: infra/domain/outfile.py)."""
    write_output(path, json.dumps(data, indent=2) + "\n", flag, console)


def write_output(path: Path, text: str, flag: str, console: Optional[Console] = None, note: str = "") -> None:
    """Write one output flag's text; say where on the console unless it went to stdout."""
    try:
        where = write_text(path, text, stdout=console.file if console is not None else None)
    except OutputError as exc:
        raise UserError(f"{flag} {path}: {exc}") from None
    if console is not None and str(path) != "-":
        console.print(f"wrote {where}{note}")


def summary_json(plans: list[StackPlan], diffs: list[StackDiff]) -> dict[str, Any]:
    """The plan summary and diff in machine-readable form (what `--json` writes)."""
    by_stack = {d.stack: d for d in diffs}
    return {
        "version": 1,
        "stacks": [{"stack": p.stack, "counts": counts(p), "byRegion": regions(p),
                    "byType": dict(sorted(p.count_by_type().items())), "outputs": plan_outputs(p),
                    **({"diff": by_stack[p.stack].to_json()} if p.stack in by_stack else {})} for p in plans],
        "deletedStacks": [d.to_json() for d in diffs if d.stack not in {p.stack for p in plans}],
        "changes": any(d.changed for d in diffs),
    }


# -- commands -------------------------------------------------------------------------
def cmd_plan(args: argparse.Namespace, console: Console) -> int:
    if args.detailed_exitcode and not args.diff:
        raise UsageError("--detailed-exitcode needs --diff DIR: it reports changes against that plan")
    if args.allow_data_loss and not args.diff:
        raise UsageError("--allow-data-loss needs --diff DIR: it accepts a loss that plan shows")
    if args.drill and not args.report:
        raise UsageError("--drill needs --report DIR: the drill is charted in the report")
    project = Project(args.project)
    stacks = deploy_order(project) if args.all else [args.stack]
    # Every stack file is checked before anything is planned or written.
    _, problems = validate_stacks(project, deploy_order(project) if args.all else stacks)
    if problems:
        raise ConfigError(problems)
    baseline = read_baseline(args.diff) if args.diff else None
    accepted = frozenset(args.allow_data_loss or ())

    engine = Engine(args.project)
    render = Renderer(console)
    plans: list[StackPlan] = []
    diffs: list[StackDiff] = []
    for stack in stacks:
        plan = engine.plan(stack)
        plans.append(plan)
        render.heading(f"stack {stack}")
        if args.verbose and not args.summary_only:
            render.tree(plan)
        render.summary(plan, verbose=args.verbose, peers=plans)
        if baseline is not None:
            diff = diff_exports(stack, baseline.get(stack), plan.to_export())
            diff.accepted = accepted
            diffs.append(diff)
            render.diff(diff, verbose=args.verbose)
    if baseline is not None and args.all:
        for gone in sorted(set(baseline) - set(stacks)):
            diff = deleted_stack(gone, baseline[gone])
            diff.accepted = accepted
            diffs.append(diff)
            render.heading(f"stack {gone} (no stack file any more)")
            render.diff(diff, verbose=args.verbose)
    _check_accepted(accepted, diffs)
    render.grand_total(plans, diffs)

    if args.out:
        with atomic_folder(args.out) as staging:
            for plan in plans:
                (staging / f"{plan.stack}.json").write_text(json.dumps(plan.to_export(), indent=2) + "\n")
        console.print(f"wrote {', '.join(f'{p.stack}.json' for p in plans)} to {args.out}")
    if args.json:
        write_json(args.json, summary_json(plans, diffs), console)
    if args.report:
        all_diffs = None
        if baseline is not None:
            all_diffs = diffs if args.all else None
        _write_report(args, console, engine, all_diffs)
    results = policy_verdict(engine, plans, diffs, console) if args.policy else None
    if args.markdown:
        from infra.cli.markdown import plan_markdown
        write_output(args.markdown, plan_markdown(plans, diffs, results), "--markdown", console)
    refusals = [r for d in diffs for r in d.refusals]
    if refusals:
        console.print(Text(f"error: preview failed: {len(refusals)} step(s) the real engine or AWS refuses "
                           "(see the errors above)", style="bold red"))
        return EXIT_ERROR
    if results is not None and any(r.mandatory for r in results):
        return EXIT_POLICY
    if args.detailed_exitcode and any(d.changed for d in diffs):
        return EXIT_CHANGES
    return EXIT_OK


def _check_accepted(accepted: frozenset[str], diffs: list[StackDiff]) -> None:
    """Every name given to --allow-data-loss must be a loss this plan shows: a typo must not
    look like consent, and consent must not outlive the change it was given for."""
    losses = {key for d in diffs for _, r in d.data_loss for key in (r.name, r.urn)}
    unknown = sorted(accepted - losses)
    if unknown:
        raise UsageError(f"--allow-data-loss {', '.join(unknown)}: this plan deletes or replaces no resource holding "
                         "data by that name" + (f"; it loses: {', '.join(sorted(r.name for d in diffs for _, r in d.data_loss))}"
                                                if losses else ""))


def policy_verdict(engine: Engine, plans: list[StackPlan], diffs: list[StackDiff], console: Console) -> list:
    """Run the policy pack over the plans just made, and the data-loss gate over the diffs;
    print the table and verdicts; return the results (a stack fails on any mandatory finding)."""
    from policies import report
    from policies.pack import load_config, resolve
    from policies.runner import Finding, StackResult, check_plan

    config = resolve(load_config(None))
    complete = {p.stack for p in plans} >= set(engine.deploy_order())
    results = [check_plan(plan, config, stack_config=engine.project.stack_file(plan.stack).config,
                          peers=plans, complete=complete) for plan in plans]
    by_stack = {r.stack: r for r in results}
    for diff in diffs:
        result = by_stack.get(diff.stack) or StackResult(diff.stack, 0)
        if diff.stack not in by_stack:
            results.append(result)
        for step, r in diff.unaccepted_data_loss:
            result.findings.append(Finding(DATA_KEPT, "mandatory", diff.stack, r.urn,
                                           f"This change would {step} a resource holding data; name it with "
                                           f"--allow-data-loss {r.name} to accept that."))
    report.print_table(console, results)
    return results


DATA_KEPT = "data-kept"
"""The plan's own gate on a diff: no resource holding data is deleted or replaced unless named."""


def _write_report(args: argparse.Namespace, console: Console, engine: Engine,
                  diffs: Optional[list[StackDiff]]) -> None:
    """Build the HTML report of every stack and write it to `args.report` (with a screenshot if asked)."""
    from infra.report import build, drill
    from infra.report.browser import BrowserError, screenshot
    from infra.report.diagram import DiagramError

    started = time.perf_counter()
    try:
        timeline = drill.load(args.drill) if args.drill else None
    except drill.DrillFileError as exc:
        raise UserError(str(exc)) from None
    plans = engine.plan_all()
    if diffs is None and args.diff:
        baseline = read_baseline(args.diff)
        diffs = [diff_exports(p.stack, baseline.get(p.stack), p.to_export()) for p in plans]
        diffs += [deleted_stack(gone, baseline[gone]) for gone in sorted(set(baseline) - {p.stack for p in plans})]
    try:
        report = build.build(engine, plans, diffs, str(args.diff or ""), timeline)
        index = build.write(report, args.report)
    except (build.ReportError, DiagramError) as exc:
        raise UserError(str(exc)) from None
    console.print(f"wrote {index} ({len(plans)} stacks) in {time.perf_counter() - started:.1f} s")
    if args.screenshot:
        try:
            screenshot(index, args.screenshot)
        except BrowserError as exc:
            raise UserError(str(exc)) from None
        console.print(f"wrote {args.screenshot}")


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Validate every stack file, plan every stack and write the HTML report."""
    project = Project(args.project)
    _, problems = validate_stacks(project, deploy_order(project))
    if problems:
        raise ConfigError(problems)
    if args.diff:
        read_baseline(args.diff)  # a bad --diff fails before anything is planned
    if args.drill:
        from infra.report import drill

        try:
            drill.load(args.drill)
        except drill.DrillFileError as exc:
            raise UserError(str(exc)) from None
    args.report = args.out
    _write_report(args, console, Engine(args.project), None)
    return EXIT_OK


def cmd_flows(args: argparse.Namespace, console: Console) -> int:
    """Plan every stack (a flow crosses stacks), then verify the flows of the stacks asked for."""
    from infra.cli import flows_view
    from infra.flows import verify

    project = Project(args.project)
    known = deploy_order(project)
    if args.stack and args.stack not in known:
        raise UsageError(f"--stack {args.stack}: no such stack; stacks: {', '.join(known)}")
    _, problems = validate_stacks(project, known)
    if problems:
        raise ConfigError(problems)
    plans = Engine(args.project).plan_all()
    results = verify(plans, stacks=[args.stack] if args.stack else None, flows=args.flow or None)
    flows_view.table(console, results, verbose=args.verbose)
    if args.json:
        write_json(args.json, flows_view.to_json(results), console)
    if args.markdown:
        write_output(args.markdown, flows_view.matrix(results), "--markdown", console)
    blocked = [r for r in results if not r.ok]
    console.print(f"{len(results) - len(blocked)} of {len(results)} flows hold"
                  + (f"; blocked: {', '.join(f'{r.stack}/{r.flow}' for r in blocked)}" if blocked else ""))
    return EXIT_POLICY if blocked else EXIT_OK


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    """Validate every stack file (or one) without planning; all problems of all stacks at once."""
    project = Project(args.project)
    stacks = [args.stack] if args.stack else deploy_order(project)
    configs, problems = validate_stacks(project, stacks)
    for stack, cfg in configs.items():
        console.print(f"{stack}: valid ({cfg.role}, {cfg.aws_region}, {cfg.network.vpc_cidr}, "
                      f"deploy order {cfg.deploy_order})")
    if problems:
        raise ConfigError(problems)
    return EXIT_OK


def cmd_routing(args: argparse.Namespace, console: Console) -> int:
    """Print (or write) the routing table the stack files give."""
    project = Project(args.project)
    configs, problems = validate_stacks(project, deploy_order(project))
    if problems:
        raise ConfigError(problems)
    table = build_routing_table([DeployedRegion(c.stack, c.aws_region, c.is_primary, c.deploy_order)
                                 for c in configs.values()])
    text = to_markdown(table)
    if args.markdown:
        write_output(args.markdown, text, "--markdown", console, f" (routing table {table.version})")
    else:
        console.print(text)
    return EXIT_OK


def _flow_names() -> tuple[str, ...]:
    from infra.flows import FLOW_NAMES
    return FLOW_NAMES


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code for usage errors is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID_CONFIG, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m infra.cli", description=__doc__.split("\n\n")[0],
                     epilog=ops_commands.EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="project folder (holds Pulumi.yaml)")
    parser.add_argument("--no-color", action="store_true", help="plain output (also: the NO_COLOR variable)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser("plan", help="validate, then evaluate stacks offline and show what they declare")
    which = plan.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="the stack to plan, e.g. us-east")
    which.add_argument("--all", action="store_true", help="every stack, in deploy order")
    plan.add_argument("--out", type=Path, help="write <OUT>/<stack>.json in the shape of `pulumi stack export`; "
                                               "the folder is replaced whole")
    plan.add_argument("--diff", type=Path, metavar="DIR", help="compare with the plan an earlier --out wrote to DIR")
    plan.add_argument("--json", type=Path, metavar="FILE", help="write the summary (and diff) as JSON to FILE")
    plan.add_argument("--detailed-exitcode", action="store_true",
                      help=f"exit {EXIT_CHANGES} when --diff finds changes, {EXIT_OK} when it finds none")
    plan.add_argument("--verbose", action="store_true",
                      help="also every resource, type and output, and every changed output path")
    plan.add_argument("--summary-only", action="store_true", help="with --verbose: everything but the resource tree")
    plan.add_argument("--markdown", type=Path, metavar="FILE",
                      help="write the changes and verdicts as Markdown (a pull-request comment, the step summary)")
    plan.add_argument("--allow-data-loss", action="append", metavar="NAME",
                      help="with --diff: accept deleting or replacing this resource holding data (name or URN; "
                           "repeatable)")
    plan.add_argument("--policy", action="store_true",
                      help="end with the policy pack's verdict per stack (exit 4 on a mandatory violation)")
    plan.add_argument("--report", type=Path, metavar="DIR", help="also write the HTML report of every stack to DIR "
                                                                 "(with the diff when --diff is given)")
    plan.add_argument("--drill", type=Path, metavar="FILE", help="with --report: the DR drill steps to chart (JSON)")
    plan.set_defaults(func=cmd_plan, screenshot=None)
    flows = sub.add_parser("flows", help="verify every flow of the spec on the plans: network, identity, wiring")
    which = flows.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="the flows of this stack (every stack is planned: flows cross stacks)")
    which.add_argument("--all", action="store_true", help="the flows of every stack")
    flows.add_argument("--flow", action="append", choices=_flow_names(), help="only this flow (repeatable)")
    flows.add_argument("--json", type=Path, metavar="FILE", help="write the verdicts and every hop as JSON to FILE")
    flows.add_argument("--verbose", action="store_true", help="print every hop of every flow")
    flows.add_argument("--markdown", type=Path, metavar="FILE",
                       help="write the flows × stacks table as Markdown (the one README shows)")
    flows.set_defaults(func=cmd_flows)
    validate = sub.add_parser("validate", help="check the stack files without planning")
    validate.add_argument("--stack", help="only this stack (the topology checks still read every stack file)")
    validate.set_defaults(func=cmd_validate)
    routing = sub.add_parser("routing", help="show the routing table the stack files give")
    routing.add_argument("--markdown", type=Path, metavar="FILE", help="write it as Markdown (docs/routing.md)")
    routing.set_defaults(func=cmd_routing)
    report = sub.add_parser("report", help="write the plan of every stack as a self-contained HTML page")
    report.add_argument("--out", type=Path, metavar="DIR", required=True,
                        help="folder for index.html and its files (created if needed)")
    report.add_argument("--diff", type=Path, metavar="DIR", help="mark what changes against the plan an earlier "
                                                                 "`plan --out DIR` wrote")
    report.add_argument("--drill", type=Path, metavar="FILE",
                        help="DR drill steps to chart, JSON (format in infra/report/drill.py); "
                             "without it the modeled RTO steps are charted")
    report.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="also save a screenshot of the page taken by headless Chromium")
    report.set_defaults(func=cmd_report)
    ops_commands.register(sub)
    return parser


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich would exit with 1 here; let `main` end with the documented 141 instead.
        self.quiet = True
        raise BrokenPipeError


def make_console(out: TextIO, no_color: bool) -> Console:
    """A console on `out`: colour only on a terminal (or FORCE_COLOR), none at all with
    --no-color or the NO_COLOR variable; off a terminal, rows are not cut at 80 columns."""
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    console = _Console(file=out, highlight=False, emoji=False, markup=False,
                      **({"color_system": None} if plain else {}))
    if not console.is_terminal:
        console.width = 240
    return console


def main(argv: Optional[Sequence[str]] = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    console = make_console(out, args.no_color)
    try:
        return args.func(args, console)
    except (ConfigError, StackFileError) as exc:
        message = str(exc) if isinstance(exc, ConfigError) else f"invalid stack configuration:\n  - {exc}"
        err.write(f"error: {message}\n")
        return EXIT_INVALID_CONFIG
    except UsageError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_INVALID_CONFIG
    except UserError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.write(ops_commands.interrupted_message(args) + "\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the last line of defence, still without a traceback
        if os.environ.get("HSE_DEBUG"):
            raise
        err.write(f"error: {type(exc).__name__}: {exc}\n(set HSE_DEBUG=1 for the traceback)\n")
        return EXIT_ERROR
