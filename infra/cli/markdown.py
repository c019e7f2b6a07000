"""The plan as Markdown: what a pull-request comment and the CI step summary show.

One table of every stack (the counts of each step, the policy verdict, cost, modeled
RTO), then what the real engine or AWS would refuse and what would lose data, then each
stack's changes in a collapsed `diff` block, worded as in the terminal
(`infra/engine/diff_text.py`).
"""

from __future__ import annotations

from typing import Optional, Sequence

from infra.engine.cost import estimate
from infra.engine.diff import StackDiff
from infra.engine.diff_text import diff_lines
from infra.engine.plan import StackPlan
from infra.engine.summary import money


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def plan_markdown(plans: Sequence[StackPlan], diffs: Sequence[StackDiff], results: Optional[Sequence] = None) -> str:
    by_diff = {d.stack: d for d in diffs}
    by_result = {r.stack: r for r in results or ()}
    stacks = [p.stack for p in plans] + [d.stack for d in diffs if d.stack not in {p.stack for p in plans}]
    plan_of = {p.stack: p for p in plans}
    lines = ["## Offline plan", "",
             "| stack | create | update | replace | delete | unchanged | policy | monthly cost | modeled RTO |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for stack in stacks:
        diff, plan, result = by_diff.get(stack), plan_of.get(stack), by_result.get(stack)
        n = diff.counts() if diff is not None and diff.baseline else None
        steps = [str(n[k]) for k in ("create", "update", "replace", "delete", "unchanged")] if n else \
            ["all new" if diff is not None else "–", "", "", "", ""]
        verdict = "–" if result is None else (f"**FAIL** ({len(result.mandatory)} mandatory)" if result.mandatory
                                              else "PASS")
        rto = (plan.outputs.get("modeledRto") or {}).get("totalSeconds") if plan is not None else None
        cost = money(estimate(plan, peers=plans).total) if plan is not None else "–"
        lines.append("| " + " | ".join(_cell(c) for c in [stack, *steps, verdict, cost,
                                                             f"{rto} s" if rto is not None else "–"]) + " |")
    refused = [(d.stack, r) for d in diffs for r in d.refusals]
    if refused:
        lines += ["", "### Refused: `pulumi up` would fail", ""]
        lines += [f"- **{stack}**: {_cell(r.message)}" for stack, r in refused]
    losses = [(d.stack, step, r, d.is_accepted(r)) for d in diffs for step, r in d.data_loss]
    if losses:
        lines += ["", "### Data loss", ""]
        lines += [f"- **{stack}**: {step} of `{r.name}` ({r.type})"
                  + (" — accepted with `--allow-data-loss`" if ok else f" — not accepted: `--allow-data-loss {r.name}`")
                  for stack, step, r, ok in losses]
    failing = [f for r in results or () for f in r.mandatory]
    if failing:
        lines += ["", "### Mandatory policy violations", ""]
        lines += [f"- **{f.stack}** `{f.policy}` {f.resource}: {_cell(f.message)}" for f in failing]
    for stack in stacks:
        diff = by_diff.get(stack)
        if diff is None or not diff.changed or not diff.baseline:
            continue
        n = diff.counts()
        body = [text[2:] if text.startswith("  ") else text for kind, text in diff_lines(diff)
                if kind not in ("refused", "data-loss")]
        lines += ["", f"<details><summary>{stack}: +{n['create']} ~{n['update']} +-{n['replace']} "
                      f"-{n['delete']}</summary>", "", "```diff", *body, "```", "", "</details>"]
    return "\n".join(lines) + "\n"
