"""Builds the report from the offline plans of every stack and writes it to a folder:
`index.html` with the diagram inline, and beside it the routing map and the drill
timeline as SVG files. Nothing in the folder refers to anything outside it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from infra.config import load_stack
from infra.engine import Engine, StackPlan
from infra.engine.diff import StackDiff
from infra.domain.problems import ConfigError
from infra.flows import verify
from infra.report import diagram, drill, model, page, stacks, timeline, worldmap

INDEX = "index.html"


class ReportError(Exception):
    """The report could not be written: a one-line message."""


@dataclass
class Report:
    html: str
    assets: dict[str, str]
    """File name -> text of each file beside the page."""
    arch: model.Architecture
    summaries: list[stacks.StackSummary]


def build(engine: Engine, plans: list[StackPlan], diffs: Optional[list[StackDiff]] = None, diff_source: str = "",
          timeline_input: Optional[drill.DrillTimeline] = None) -> Report:
    """The report of `plans` (every stack, in deploy order), with `diffs` against an earlier plan if given."""
    arch = model.build(plans)
    complete = {p.stack for p in plans} >= set(engine.deploy_order())
    node_changes = model.mark_changes(arch, diffs) if diffs is not None else {}
    summaries = []
    for plan in plans:
        try:
            rpo: Optional[int] = load_stack(engine.project, plan.stack).database.rpo_seconds
        except ConfigError:
            rpo = None
        summaries.append(stacks.summarize(plan, rpo, engine.project.stack_file(plan.stack).config, peers=plans,
                                          complete=complete))
    primary = next((p for p in plans if p.outputs.get("role") == "primary"), plans[0])
    table = primary.outputs.get("routingTable") or {}
    if timeline_input is None:
        timeline_input = drill.modeled(primary.outputs["modeledRto"], primary.stack)
    order = [r.stack for r in arch.regions]
    data = page.PageData(arch=arch, summaries=summaries, routes=worldmap.routes(table),
                         routing_version=str(table.get("version", "")), timeline=timeline_input, diffs=diffs,
                         diff_source=diff_source, node_changes=node_changes,
                         flows=verify(plans, complete=complete))
    return Report(html=page.render(data, diagram.to_svg(arch)),
                  assets={page.MAP_FILE: worldmap.to_svg(table, order), page.TIMELINE_FILE: timeline.to_svg(timeline_input)},
                  arch=arch, summaries=summaries)


def _write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     encoding="utf-8") as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def write(report: Report, out: Path) -> Path:
    """Write the page and its files into `out` (created if needed; other files there are left alone)."""
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in report.assets.items():
            _write(out / name, text)
        _write(out / INDEX, report.html)
    except OSError as exc:
        raise ReportError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return out / INDEX
