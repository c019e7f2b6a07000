"""How the plan command shows a plan and a diff in the terminal (with `rich`).

Everything shown passes through `redact`/`show` first, so no secret value can reach
the screen. Values the cloud computes at deploy time (ids, ARNs, generated names) are
shown as `(known after deploy)`: offline they are stand-ins, not what AWS will return.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.cost import estimate, prices
from infra.engine.diff import ABSENT, Change, StackDiff, show
from infra.engine.plan import STACK_TYPE, StackPlan, redact

COMPUTED = "(known after deploy)"
# Outputs that echo what the program already knows at preview (its provider's region,
# the account from the caller identity, the merged tags), never stand-ins.
_KNOWN_ECHOES = frozenset({"region", "ownerId", "tagsAll"})


def short_type(type_: str) -> str:
    """`aws:ec2/vpc:Vpc` -> `aws.ec2.Vpc`; `pulumi:providers:aws` -> `aws provider`."""
    parts = type_.split(":")
    if len(parts) != 3:
        return type_
    package, module, name = parts
    if package == "pulumi":
        return f"{name} provider" if module == "providers" else name
    module = module.split("/")[0]
    return f"{package}.{name}" if module == "index" else f"{package}.{module}.{name}"


def short_name(name: str, parent_name: str) -> str:
    """A child's name without its parent's prefix: `hse-us-east-vpc` under `hse-us-east` -> `vpc`."""
    return name[len(parent_name) + 1:] if parent_name and name.startswith(parent_name + "-") else name


def counts(plan: StackPlan) -> dict[str, int]:
    """The plan's resources by kind; the kinds add up to `total` (the stack itself not counted)."""
    resources = [r for r in plan.resources if r.type != STACK_TYPE]
    kinds = Counter("provider" if r.type.startswith("pulumi:providers:") else "read" if r.external
                    else "cloud" if r.custom else "component" for r in resources)
    return {"total": len(resources), "cloud": kinds["cloud"], "components": kinds["component"],
            "providers": kinds["provider"], "reads": kinds["read"]}


def regions(plan: StackPlan) -> dict[str, int]:
    """Cloud resources by the region of the provider they go through."""
    def where(provider) -> str:
        # Resources of region-less providers (random) are counted under the provider's package.
        return provider.input("region") or provider.type.rsplit(":", 1)[-1]

    found = Counter(where(plan.get(r.provider_urn)) for r in plan.managed() if r.custom and r.provider_urn)
    return dict(sorted(found.items()))


def money(usd: float) -> str:
    return f"${usd:,.0f}"


def computed_values(plan: StackPlan) -> set[str]:
    """Strings the offline cloud made up: resource ids and outputs that were not inputs."""
    values: set[str] = set()
    # The account is known before deploy (the caller's identity); some resources echo it.
    known = {plan.outputs.get("accountId")}
    for r in plan.resources:
        if not r.custom or r.external or r.type.startswith("pulumi:"):
            continue
        given = {v for v in r.inputs.values() if isinstance(v, str)}
        if r.id and r.id not in given:
            values.add(r.id)  # an id the program chose itself (a user group's) is known before deploy
        for key, value in r.outputs.items():
            # An output that repeats an input (a record's fqdn is its name) is known before deploy.
            if isinstance(value, str) and key not in _KNOWN_ECHOES and value not in given:
                values.add(value)
    return values - known


def output_value(value: Any, computed: set[str]) -> Any:
    """A stack output as the plan shows it: secrets redacted, cloud-computed parts marked."""
    value = show(redact(value))
    if isinstance(value, str):
        # Computed itself, or built from a computed value (a replica's ARN from its primary's).
        derived = any(len(c) >= 12 and c in value for c in computed)
        return COMPUTED if value in computed or derived else value
    if isinstance(value, list):
        return [output_value(v, computed) for v in value]
    if isinstance(value, dict):
        return {k: output_value(v, computed) for k, v in value.items()}
    return value


def plan_outputs(plan: StackPlan) -> dict[str, Any]:
    computed = computed_values(plan)
    return {k: output_value(v, computed) for k, v in sorted(plan.root.outputs.items())}


def _text(value: Any) -> str:
    if value is ABSENT:
        return "(none)"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(v == COMPUTED for v in value):
        return f"{len(value)} × {COMPUTED}"
    text = json.dumps(value)
    if len(text) > 200:  # a whole table (the routing table): its size, not its text
        return f"{{{len(value)} keys}}" if isinstance(value, dict) else f"[{len(value)} items]"
    return text


class Renderer:
    """Writes plans, summaries and diffs to one console."""

    def __init__(self, console: Console):
        self.console = console

    def heading(self, text: str) -> None:
        self.console.print(Text(f"=== {text} ===", style="bold"))

    def tree(self, plan: StackPlan) -> None:
        """The resources under their components, one aligned row each."""
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        table.add_column("resource", no_wrap=True)
        table.add_column("type", style="cyan", no_wrap=True)
        children: dict[str, list] = {}
        for r in plan.resources:
            children.setdefault(r.parent, []).append(r)
        names = {r.urn: r.name for r in plan.resources}
        table.add_row(plan.root.name, short_type(plan.root.type))

        def walk(urn: str, indent: str) -> None:
            kids = children.get(urn, [])
            for i, r in enumerate(kids):
                last = i == len(kids) - 1
                label = short_name(r.name, names.get(r.parent, "")) + ("  (read)" if r.external else "")
                table.add_row(f"{indent}{'└─ ' if last else '├─ '}{label}", short_type(r.type))
                walk(r.urn, indent + ("   " if last else "│  "))

        walk(plan.root.urn, "")
        self.console.print(table)

    def summary(self, plan: StackPlan) -> None:
        c = counts(plan)
        self.console.print(f"{c['total']} resources: {c['cloud']} cloud resources, {c['components']} components, "
                           f"{c['providers']} providers, {c['reads']} stack reads")
        self.console.print("by region: " + ", ".join(f"{region} {n}" for region, n in regions(plan).items()))
        rto = plan.outputs.get("modeledRto")
        if isinstance(rto, dict) and "totalSeconds" in rto:
            self.console.print(f"modeled RTO: {rto['totalSeconds']} s (fast profile: {rto['fastProfileTotalSeconds']} s; "
                               f"spec: under {rto['specSeconds']} s) = detection {rto['detectionSeconds']} s + "
                               f"max(DNS TTL {rto['dnsTtlSeconds']} s, promotion {rto['promotionSeconds']} s) + "
                               f"reconnect {rto['reconnectSeconds']} s")
        cost = estimate(plan)
        self.console.print(f"estimated monthly cost: {money(cost.total)} ("
                           + ", ".join(f"{region} {money(usd)}" for region, usd in sorted(cost.by_region.items()))
                           + f"; list prices of {prices()['date']}, usage not included)")
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        table.add_column("type", no_wrap=True)
        table.add_column("count", justify="right")
        by_type = Counter(r.type for r in plan.resources if r.type != STACK_TYPE)
        for type_, n in sorted(by_type.items(), key=lambda item: short_type(item[0])):
            table.add_row(short_type(type_), str(n))
        self.console.print(table)
        self.console.print(Text("outputs:", style="bold"))
        outputs = Table(box=None, pad_edge=False, show_header=False)
        outputs.add_column("key", style="bold", no_wrap=True)
        outputs.add_column("value", overflow="fold")
        for key, value in plan_outputs(plan).items():
            outputs.add_row(f"  {key}", _text(value))
        self.console.print(outputs)
        for message in plan.diagnostics:
            self.console.print(Text(f"warning: {message}", style="yellow"))

    def diff(self, diff: StackDiff) -> None:
        if not diff.baseline:
            self.console.print(Text(f"no earlier plan of {diff.stack}: every resource is new", style="yellow"))
        for r in diff.creates:
            self.console.print(Text(f"  + {short_type(r.type)}  {r.name}", style="green"))
        for r in diff.updates:
            self.console.print(Text(f"  ~ {short_type(r.type)}  {r.name}", style="yellow"))
            for change in r.changes:
                self._change(change, "      ")
        for r in diff.deletes:
            self.console.print(Text(f"  - {short_type(r.type)}  {r.name}", style="red"))
        if diff.outputs:
            self.console.print("  outputs:")
            for change in diff.outputs:
                self._change(change, "    ")
        self.console.print(Text(diff.totals(), style="bold"))

    def _change(self, change: Change, indent: str) -> None:
        line = Text(f"{indent}{change.path}: ")
        line.append(_text(change.old), style="red")
        line.append(" → ")
        line.append(_text(change.new), style="green")
        self.console.print(line)

    def grand_total(self, plans: Iterable[StackPlan], diffs: list[StackDiff]) -> None:
        plans = list(plans)
        totals = Counter()
        for plan in plans:
            totals.update(counts(plan))
        line = (f"total: {len(plans)} stack(s), {totals['total']} resources ({totals['cloud']} cloud resources, "
                f"{totals['components']} components, {totals['providers']} providers, {totals['reads']} stack reads)")
        self.console.print(Text(line, style="bold"))
        cost = sum(estimate(plan).total for plan in plans)
        self.console.print(Text(f"estimated monthly cost of all stacks: {money(cost)} (an estimate: list prices "
                                f"of {prices()['date']}, usage not included)", style="bold"))
        if diffs:
            self.console.print(Text(
                f"changes: +{sum(len(d.creates) for d in diffs)} to create, ~{sum(len(d.updates) for d in diffs)} "
                f"to update, -{sum(len(d.deletes) for d in diffs)} to delete, "
                f"{sum(d.unchanged for d in diffs)} unchanged", style="bold"))
