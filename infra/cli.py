"""The operator's command line.

    python -m infra.cli plan --stack us-east          # one stack (its peers are planned first)
    python -m infra.cli plan --all --out plan/        # every stack in deploy order, written as stack exports
    python -m infra.cli validate                      # check every stack file, report all problems

`plan` evaluates the program offline (no Pulumi CLI, no cloud account), prints each
stack's resource tree, a count by type and the stack outputs, and with `--out` writes
`<DIR>/<stack>.json` in the shape of `pulumi stack export`. Secrets are redacted in
everything it prints or writes. Exit codes: 0 planned, 2 invalid configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Optional, Sequence, TextIO

from infra.config import ConfigError, Problem, deploy_order, load_stack
from infra.engine import Engine, StackPlan
from infra.engine.plan import redact
from infra.stackfiles import Project, StackFileError

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXIT_INVALID_CONFIG = 2


def render_tree(plan: StackPlan) -> list[str]:
    """The resources as a tree of parents and children, in the plan's dependency order."""
    children: dict[str, list] = {}
    for r in plan.resources:
        children.setdefault(r.parent, []).append(r)
    lines = [f"{plan.root.type}  {plan.root.name}"]

    def walk(urn: str, indent: str) -> None:
        kids = children.get(urn, [])
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{r.type}  {r.name}{'  (read)' if r.external else ''}")
            walk(r.urn, indent + ("   " if last else "│  "))

    walk(plan.root.urn, "")
    return lines


def _format_value(value: object) -> str:
    redacted = redact(value)
    if isinstance(redacted, dict) and "ciphertext" in redacted:
        return "[secret]"
    return json.dumps(redacted) if not isinstance(redacted, str) else redacted


def render_summary(plan: StackPlan) -> list[str]:
    managed = plan.managed()
    custom = sum(1 for r in managed if r.custom)
    lines = [f"{len(plan)} resources: {custom} cloud resources, {len(managed) - custom} components, "
             f"{len(plan) - len(managed) - 1} providers and stack reads"]
    regions = Counter(plan.get(r.provider_urn).input("region", "?") for r in managed if r.custom and r.provider_urn)
    lines.append("by region: " + ", ".join(f"{region} {n}" for region, n in sorted(regions.items())))
    counts = plan.count_by_type()
    width = max(len(t) for t in counts)
    lines.append("by type:")
    lines += [f"  {t:<{width}}  {n:>4}" for t, n in sorted(counts.items())]
    lines.append("outputs:")
    lines += [f"  {k}: {_format_value(v)}" for k, v in sorted(plan.root.outputs.items())]
    for message in plan.diagnostics:
        lines.append(f"warning: {message}")
    return lines


def write_export(plan: StackPlan, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{plan.stack}.json"
    path.write_text(json.dumps(plan.to_export(), indent=2) + "\n")
    return path


def cmd_plan(args: argparse.Namespace, out: TextIO) -> int:
    engine = Engine(args.project)
    stacks = engine.deploy_order() if args.all else [args.stack]
    for stack in stacks:
        plan = engine.plan(stack)
        out.write(f"\n=== stack {stack} ===\n")
        if not args.summary_only:
            out.write("\n".join(render_tree(plan)) + "\n")
        out.write("\n".join(render_summary(plan)) + "\n")
        if args.out:
            out.write(f"wrote {write_export(plan, Path(args.out))}\n")
    return 0


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Validate every stack file (or one) without planning; all problems of all stacks at once."""
    project = Project(args.project)
    stacks = [args.stack] if args.stack else deploy_order(project)
    problems: list[Problem] = []
    for stack in stacks:
        try:
            cfg = load_stack(project, stack)
        except ConfigError as exc:
            problems += [p for p in exc.problems if p not in problems]
            continue
        out.write(f"{stack}: valid ({cfg.role}, {cfg.aws_region}, {cfg.network.vpc_cidr}, deploy order {cfg.deploy_order})\n")
    if problems:
        raise ConfigError(problems)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="project directory (holds Pulumi.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="evaluate stacks offline and show what they declare")
    which = plan.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="the stack to plan, e.g. us-east")
    which.add_argument("--all", action="store_true", help="every stack, in deploy order")
    plan.add_argument("--out", type=Path, help="write <OUT>/<stack>.json in the shape of `pulumi stack export`")
    plan.add_argument("--summary-only", action="store_true", help="skip the resource tree")
    plan.set_defaults(func=cmd_plan)
    validate = sub.add_parser("validate", help="check the stack files without planning")
    validate.add_argument("--stack", help="only this stack (the topology checks still read every stack file)")
    validate.set_defaults(func=cmd_validate)
    return parser


def main(argv: Optional[Sequence[str]] = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, out)
    except (ConfigError, StackFileError) as exc:
        err.write(f"error: {exc}\n")
        return EXIT_INVALID_CONFIG


if __name__ == "__main__":
    sys.exit(main())
