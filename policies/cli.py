"""The offline policy gate: `python -m policies.cli check --stack NAME | --all [--plan FILE]`.

Evaluates stacks through the project's offline engine (or reads a plan file written by
`python -m infra.cli plan --out DIR`, or a `pulumi stack export`) and runs every resource and
stack policy of the pack with the config the CLI would use (`--config`, the same JSON
`pulumi preview --policy-pack-config` takes).

Exit codes:
  0  no mandatory violation (advisory ones may be printed)
  1  another error (an output file that could not be written after the check ran)
  2  bad usage or input: unknown stack, unreadable plan or config file, invalid
     configuration, a --json or --sarif path that cannot be written (checked first)
  4  a mandatory policy is violated (the same code as `python -m infra.cli plan --policy`)
  130 interrupted
  141 the output was closed early (e.g. piped into head)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from rich.console import Console

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_VIOLATION, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 4, 130, 141
PROJECT_DIR = Path(__file__).resolve().parent.parent


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as the rest of the runner
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m policies.cli", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="run the pack over stacks", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    which = check.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", action="append", metavar="NAME", help="a stack to check (repeatable)")
    which.add_argument("--all", action="store_true", help="every stack, in deploy order")
    which.add_argument("--plan", action="append", type=Path, metavar="FILE",
                       help="a plan file (plan/<stack>.json or a `pulumi stack export`), repeatable")
    check.add_argument("--config", type=Path, metavar="FILE", help="pack config JSON (as --policy-pack-config)")
    check.add_argument("--sarif", type=Path, metavar="FILE", help="write SARIF 2.1.0 here")
    check.add_argument("--json", type=Path, metavar="FILE", help="write the result as JSON here")
    check.add_argument("--project", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    check.add_argument("--no-color", action="store_true", help="no colour in the table")
    return p


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _write(path: Path, text: str) -> Optional[str]:
    """`-` is stdout; links and devices are written through (infra/domain/outfile.py)."""
    from infra.domain.outfile import OutputError, write_text
    try:
        write_text(path, text)
    except OutputError as exc:
        return str(exc)
    return None


def check(args: argparse.Namespace) -> int:
    from infra.domain.outfile import OutputError, check_target
    from infra.domain.problems import ConfigError
    from policies import report
    from policies.pack import PackConfigError, load_config, resolve
    from policies.runner import check_plan
    from policies.source import PlanFileError, load_export

    for flag, path in (("--json", args.json), ("--sarif", args.sarif)):
        try:
            if path is not None:
                check_target(path)  # before the stacks are planned, not after
        except OutputError as exc:
            return _fail(f"{flag} {exc}")
    try:
        config = resolve(load_config(args.config))
    except PackConfigError as exc:
        return _fail(str(exc))
    results = []
    plans = []
    if args.plan:
        for path in args.plan:
            try:
                plan = load_export(path)
            except PlanFileError as exc:
                return _fail(str(exc))
            plans.append(plan)
        for plan in plans:
            results.append(check_plan(plan, config, stack_config=None, has_options=False, peers=plans,
                                      complete=False))
    else:
        from infra.engine import Engine
        from infra.config.stackfiles import StackFileError

        try:
            engine = Engine(args.project)
            known = engine.deploy_order()
            stacks = known if args.all else args.stack
            unknown = [s for s in stacks if s not in known]
            if unknown:
                return _fail(f"unknown stack {unknown[0]!r}; stacks: {', '.join(known)}")
            plans = [engine.plan(stack) for stack in stacks]
            # Flows cross stacks: the policy sees every plan the engine made (a stack's peers included).
            made = [engine.plan(stack) for stack in known if stack in stacks or engine.has_plan(stack)]
            complete = len(made) == len(known)
            for plan in plans:
                stack_config = engine.project.stack_file(plan.stack).config
                results.append(check_plan(plan, config, stack_config=stack_config, peers=made, complete=complete))
        except ConfigError as exc:
            first = str(exc).strip().splitlines()
            return _fail(" ".join(line.strip() for line in first))
        except StackFileError as exc:
            return _fail(str(exc))
    console = Console(no_color=args.no_color, soft_wrap=False, width=200)
    report.print_table(console, results)
    for flag, path, text in (("--json", args.json, args.json and report.dump(report.to_json(results))),
                             ("--sarif", args.sarif, args.sarif and report.dump(report.to_sarif(results, config,
                                                                                                "stack")))):
        if path is not None:
            problem = _write(path, text)
            if problem:
                print(f"error: {flag} {problem}", file=sys.stderr)
                return EXIT_ERROR
    return EXIT_VIOLATION if any(r.mandatory for r in results) else EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return check(args)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away: end quietly with the documented code, not 1 (a violation's look-alike).
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
