"""How the plan command shows a plan and a diff in the terminal (with `rich`).

Everything shown passes through `redact`/`show` first, so no secret value can reach
the screen. Values the cloud computes at deploy time (ids, ARNs, generated names) are
shown as `(known after deploy)`: offline they are stand-ins, not what AWS will return.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.engine.cost import estimate, prices
from infra.engine.diff import StackDiff
from infra.engine.diff_text import diff_lines, value_text
from infra.engine.plan import STACK_TYPE, StackPlan
from infra.engine.summary import counts, money, plan_outputs, regions, short_name, short_type

_STYLE = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red", "refused": "bold red",
          "data-loss": "bold red", "note": ""}


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

    def summary(self, plan: StackPlan, verbose: bool = False, peers: Sequence[StackPlan] = ()) -> None:
        """Counts, regions, the modeled RTO and the cost (`peers`: the other stacks' plans, which
        price a Global Datastore member); with `verbose` also every type and output."""
        c = counts(plan)
        self.console.print(f"{c['total']} resources: {c['cloud']} cloud resources, {c['components']} components, "
                           f"{c['providers']} providers, {c['reads']} stack reads; by region: "
                           + ", ".join(f"{region} {n}" for region, n in regions(plan).items()))
        rto = plan.outputs.get("modeledRto")
        if isinstance(rto, dict) and "totalSeconds" in rto:
            self.console.print(f"modeled RTO: {rto['totalSeconds']} s (fast profile: {rto['fastProfileTotalSeconds']} s; "
                               f"spec: under {rto['specSeconds']} s) = detection {rto['detectionSeconds']} s + "
                               f"max(DNS TTL {rto['dnsTtlSeconds']} s, alarm window {rto['alarmSeconds']} s + "
                               f"forwarding {rto['forwardingSeconds']} s + promotion {rto['promotionSeconds']} s) + "
                               f"reconnect {rto['reconnectSeconds']} s")
        cost = estimate(plan, peers=peers)
        self.console.print(f"estimated monthly cost: {money(cost.total)} ("
                           + ", ".join(f"{region} {money(usd)}" for region, usd in sorted(cost.by_region.items()))
                           + f"; list prices of {prices()['date']}, usage not included)")
        for what, price in cost.per_use:
            self.console.print(f"  per use, not in the estimate: {what}: {price}")
        for what in sorted(cost.unpriced):
            self.console.print(f"  not priced, counted as $0: {what}")
        for message in plan.diagnostics:
            self.console.print(Text(f"warning: {message}", style="yellow"))
        if verbose:
            self._types(plan)
            self._outputs(plan)

    def _types(self, plan: StackPlan) -> None:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        table.add_column("type", no_wrap=True)
        table.add_column("count", justify="right")
        by_type = Counter(r.type for r in plan.resources if r.type != STACK_TYPE)
        for type_, n in sorted(by_type.items(), key=lambda item: short_type(item[0])):
            table.add_row(short_type(type_), str(n))
        self.console.print(table)

    def _outputs(self, plan: StackPlan) -> None:
        self.console.print(Text("outputs:", style="bold"))
        outputs = Table(box=None, pad_edge=False, show_header=False)
        outputs.add_column("key", style="bold", no_wrap=True)
        outputs.add_column("value", overflow="fold")
        for key, value in plan_outputs(plan).items():
            outputs.add_row(f"  {key}", value if isinstance(value, str) else value_text(value))
        self.console.print(outputs)

    def diff(self, diff: StackDiff, verbose: bool = False) -> None:
        for kind, line in diff_lines(diff, verbose):
            self.console.print(Text(line, style=_STYLE[kind]))
        self.console.print(Text(diff.totals(), style="bold"))

    def grand_total(self, plans: Iterable[StackPlan], diffs: list[StackDiff]) -> None:
        plans = list(plans)
        totals = Counter()
        for plan in plans:
            totals.update(counts(plan))
        line = (f"total: {len(plans)} stack(s), {totals['total']} resources ({totals['cloud']} cloud resources, "
                f"{totals['components']} components, {totals['providers']} providers, {totals['reads']} stack reads)")
        self.console.print(Text(line, style="bold"))
        cost = sum(estimate(plan, peers=plans).total for plan in plans)
        self.console.print(Text(f"estimated monthly cost of all stacks: {money(cost)} (an estimate: list prices "
                                f"of {prices()['date']}, usage not included)", style="bold"))
        if diffs:
            n = Counter()
            for d in diffs:
                n.update(d.counts())
            self.console.print(Text(
                f"changes: +{n['create']} to create, ~{n['update']} to update, +-{n['replace']} to replace, "
                f"-{n['delete']} to delete, {n['unchanged']} unchanged", style="bold"))
