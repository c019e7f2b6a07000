"""How the `flows` command shows the verifier's verdicts: one row per flow and stack,
with the first hop that blocks it; every hop with `--verbose`."""

from __future__ import annotations

from typing import Any, Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.flows import FlowResult

_STYLE = {"pass": "green", "blocked": "bold red", "unknown": "yellow"}


def table(console: Console, results: Iterable[FlowResult], *, verbose: bool = False) -> None:
    grid = Table(title="Flows of the spec, verified on the plans", show_lines=False)
    for column in ("stack", "flow", "hops", "verdict", "blocking hop (resource: what is missing)"):
        grid.add_column(column, overflow="fold")
    for result in results:
        block = result.blocking
        where = "" if block is None else f"{block.name} ({block.resource or '-'}): {block.detail}"
        verdict = result.verdict
        grid.add_row(result.stack, result.flow, str(len(result.hops)), Text(verdict.upper(), style=_STYLE[verdict]),
                     where)
    console.print(grid)
    if verbose:
        for result in results:
            console.print(Text(f"\n{result.stack} {result.flow}: {result.description}", style="bold"))
            for hop in result.hops:
                console.print(Text.assemble("  ", (f"{hop.verdict:7}", _STYLE[hop.verdict]), f" {hop.name} — {hop.detail}"))


def to_json(results: Iterable[FlowResult]) -> dict[str, Any]:
    rows = [r.to_json() for r in results]
    return {"version": 1, "flows": rows,
            "verdict": "pass" if all(r["verdict"] == "pass" for r in rows) else "blocked"}


def markdown(results: Iterable[FlowResult]) -> str:
    """The verdicts as a Markdown table (for docs and pull requests)."""
    lines = ["| stack | flow | hops | verdict | blocking hop |", "|---|---|---|---|---|"]
    for r in results:
        block = r.blocking
        where = "" if block is None else f"{block.name}: {block.detail}".replace("|", "\\|")
        lines.append(f"| {r.stack} | {r.flow} | {len(r.hops)} | {r.verdict} | {where} |")
    return "\n".join(lines) + "\n"


def matrix(results: Iterable[FlowResult]) -> str:
    """Flows down, stacks across, a verdict and the hop count in each cell (Markdown); the
    table README and docs/architecture.md show, made from the verifier's verdicts."""
    results = list(results)
    stacks = list(dict.fromkeys(r.stack for r in results))
    flows = list(dict.fromkeys(r.flow for r in results))
    descriptions = {r.flow: r.description for r in results}
    by = {(r.stack, r.flow): r for r in results}
    lines = ["| flow | what is checked | " + " | ".join(stacks) + " |", "|---|---|" + "---|" * len(stacks)]
    for flow in flows:
        cells = []
        for stack in stacks:
            result = by.get((stack, flow))
            cells.append("—" if result is None else
                         f"{'✓' if result.ok else '✗'} {len(result.hops)} hop{'' if len(result.hops) == 1 else 's'}")
        lines.append(f"| `{flow}` | {descriptions[flow]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
