"""The runbooks name only what exists: every `python -m infra.cli ...` command parses with
the CLI's own parser (and names real stacks and regions), every `pulumi stack output KEY`
is an output of the stack, every `<camelCase>` placeholder is an output key, and every
resource name (an EKS cluster or node group, a global cluster, a backup vault, a
Kubernetes HPA, Deployment or namespace, any other `hse-...` name) is in the plans."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import pytest

from infra.cli.main import build_parser

RUNBOOKS = sorted((Path(__file__).resolve().parents[2] / "docs" / "runbooks").glob("*.md"))
CLI = re.compile(r"python -m infra\.cli\b([^`#\n|;&]*)")
OUTPUT = re.compile(r"\$\(pulumi stack output (\w+) --stack ([\w<>-]+)\)")
PLACEHOLDER = re.compile(r"<([^<>\n]+)>")
NAME = re.compile(r"\bhse-[a-z0-9<>-]*[a-z0-9>]")
# A flag or kubectl word -> the kind of thing its value names.
TYPED = {
    "eks cluster": re.compile(r"--cluster-name\s+(\S+)"),
    "node group": re.compile(r"--nodegroup-name\s+(\S+)"),
    "global cluster": re.compile(r"--global-cluster-identifier\s+(\S+)"),
    "backup vault": re.compile(r"--backup-vault-name\s+(\S+)"),
    "hpa": re.compile(r"kubectl\s+-n\s+\S+\s+(?:get|patch|describe)\s+hpa\s+(\S+)"),
    "deployment": re.compile(r"deployment/(\S+?)[`\s:]"),
    "namespace": re.compile(r"kubectl\s+-n\s+(\S+)"),
}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


@pytest.fixture(scope="module")
def known(plans) -> dict[str, set[str]]:
    """What the plans declare, by kind, and every string anywhere in them ('any')."""
    kinds: dict[str, set[str]] = {k: set() for k in TYPED}
    kinds["any"] = set()

    def meta(resource) -> str:
        return str((resource.input("metadata") or {}).get("name", ""))

    for plan in plans.values():
        kinds["any"] |= set(_strings(plan.outputs))
        for r in plan.resources:
            kinds["any"] |= set(_strings(r.inputs)) | set(_strings(r.outputs))
            if r.type == "aws:eks/cluster:Cluster":
                kinds["eks cluster"].add(r.output("name"))
            elif r.type == "aws:eks/nodeGroup:NodeGroup":
                kinds["node group"].add(r.output("nodeGroupName"))
            elif r.type == "aws:rds/globalCluster:GlobalCluster":
                kinds["global cluster"].add(r.input("globalClusterIdentifier"))
            elif r.type == "aws:backup/vault:Vault":
                kinds["backup vault"].add(r.input("name"))
            elif r.type == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler":
                kinds["hpa"].add(meta(r))
            elif r.type == "kubernetes:apps/v1:Deployment":
                kinds["deployment"].add(meta(r))
            elif r.type == "kubernetes:core/v1:Namespace":
                kinds["namespace"].add(meta(r))
    return kinds


def _substitute_outputs(text: str, plans) -> tuple[str, list[str]]:
    """`$(pulumi stack output KEY --stack S)` replaced by the plan's value; the keys that do not exist."""
    missing = []

    def value(match: re.Match) -> str:
        key, stack = match.group(1), match.group(2)
        stacks = [stack] if stack in plans else list(plans)
        if any(key not in plans[s].outputs for s in stacks):
            missing.append(f"pulumi stack output {key} --stack {stack}")
            return match.group(0)
        return str(plans[stacks[0]].outputs[key])

    return OUTPUT.sub(value, text), missing


def _matches(name: str, candidates: set[str]) -> bool:
    if "<" not in name:
        return name in candidates
    pattern = re.compile("".join("[a-z0-9-]+" if part.startswith("<") else re.escape(part)
                                 for part in re.split(r"(<[^<>]+>)", name)))
    return any(pattern.fullmatch(c) for c in candidates)


def problems_of(text: str, plans, known: dict[str, set[str]]) -> list[str]:
    """Everything a runbook's text names that the CLI or the plans do not have."""
    found = []
    text, missing = _substitute_outputs(text, plans)
    found += [f"no output: {m}" for m in missing]
    for key, stack in re.findall(r"pulumi stack output (\w+) --stack ([\w-]+)", text):
        if stack in plans and key not in plans[stack].outputs:
            found.append(f"no output {key} in {stack}")
    outputs = set().union(*(p.outputs for p in plans.values()))
    for placeholder in PLACEHOLDER.findall(text):
        word = placeholder.split()[0]
        if re.fullmatch(r"[a-z]+[A-Z][A-Za-z]*", word) and word not in outputs:
            found.append(f"placeholder <{placeholder}> is no stack output")
    regions = {p.outputs["awsRegion"] for p in plans.values()}
    for rest in CLI.findall(text):
        argv = shlex.split(rest)
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                args = build_parser().parse_args(argv)
            except SystemExit:
                found.append(f"python -m infra.cli{rest.rstrip()}: {err.getvalue().strip().splitlines()[-1]}")
                continue
        if getattr(args, "stack", None) and args.stack not in plans:
            found.append(f"python -m infra.cli{rest.rstrip()}: no stack {args.stack}")
        if getattr(args, "state_region", None) and args.state_region not in regions:
            found.append(f"python -m infra.cli{rest.rstrip()}: no region {args.state_region}")
    typed_spans = []
    for kind, pattern in TYPED.items():
        for match in pattern.finditer(text):
            value = match.group(1).strip("\"'`")
            typed_spans.append(match.span(1))
            if value.startswith("$"):
                continue  # a shell variable, set from a checked output above
            if not _matches(value, known[kind]):
                found.append(f"no {kind} named {value}")
    for match in NAME.finditer(text):
        if any(start <= match.start() < end for start, end in typed_spans):
            continue
        if not _matches(match.group(0), known["any"]):
            found.append(f"nothing in the plans is named {match.group(0)}")
    return found


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda p: p.name)
def test_every_name_and_command_in_the_runbook_exists(runbook, plans, known):
    assert problems_of(runbook.read_text(), plans, known) == []


def test_the_runbooks_are_all_checked():
    assert [p.name for p in RUNBOOKS] == ["blue-green-deployment.md", "failback.md", "failover.md", "restore.md",
                                          "rolling-deployment.md"]


@pytest.mark.parametrize("line,problem", [
    # What the failover runbook used to say (names the program never created).
    ("`aws eks describe-nodegroup --region eu-west-1 --cluster-name hse-eu-west-eks --nodegroup-name "
     "hse-eu-west-nodes`", "no eks cluster named hse-eu-west-eks"),
    ("`aws eks describe-nodegroup --region eu-west-1 --cluster-name hse-eu-west-eks --nodegroup-name "
     "hse-eu-west-nodes`", "no node group named hse-eu-west-nodes"),
    ("`kubectl -n hse get hpa hse-app` shows min 5", "no hpa named hse-app"),
    ("`kubectl -n hse rollout status deployment/hse-app`: ready", "no deployment named hse-app"),
    ("`kubectl -n apps get hpa hse-app-<colour>`", "no namespace named apps"),
    ("aws backup list-recovery-points-by-backup-vault --backup-vault-name hse-production-eu-west-copies\n",
     "no backup vault named hse-production-eu-west-copies"),
    ("--db-cluster-identifier hse-production-us-east-restore \\\n", "nothing in the plans is named "
                                                                     "hse-production-us-east-restore"),
    ("`python -m infra.cli failover --stack us-east --state-region eu-west-1 --force-it`",
     "python -m infra.cli failover --stack us-east --state-region eu-west-1 --force-it: python -m infra.cli: "
     "error: unrecognized arguments: --force-it"),
    ("`python -m infra.cli failover --stack eu-central --state-region eu-west-1`",
     "python -m infra.cli failover --stack eu-central --state-region eu-west-1: no stack eu-central"),
    ("`python -m infra.cli failback --state-region eu-central-1`",
     "python -m infra.cli failback --state-region eu-central-1: no region eu-central-1"),
    ("`python -m infra.cli hpa-reconcile --state-region eu-west-1`",
     "python -m infra.cli hpa-reconcile --state-region eu-west-1: python -m infra.cli hpa-reconcile: error: the "
     "following arguments are required: --stack"),
    ("--cluster-name $(pulumi stack output eksCluster --stack eu-west)",
     "no output: pulumi stack output eksCluster --stack eu-west"),
    ("--hosted-zone-id <hostedZone>", "placeholder <hostedZone> is no stack output"),
])
def test_a_wrong_name_or_command_is_named(line, problem, plans, known):
    assert problem in problems_of(line, plans, known)


def test_real_names_pass(plans, known):
    text = ("`aws eks describe-nodegroup --cluster-name $(pulumi stack output eksClusterName --stack eu-west) "
            "--nodegroup-name $(pulumi stack output eksNodeGroupName --stack eu-west)` "
            "`kubectl -n hse get hpa hse-app-<colour>` `kubectl -n hse get hpa hse-app-blue` "
            "--backup-vault-name hse-production-us-east-copies\n `--global-cluster-identifier "
            "hse-production-us-east-global` `python -m infra.cli hpa-reconcile --stack eu-west --state-region eu-west-1`")
    assert problems_of(text, plans, known) == []
