"""The report's HTML: one page with its styles inline and no script, which shows the
diagram inline and the two charts from SVG files beside it. Every value passes through
`html.escape`; stack outputs arrive already redacted (`infra.report.stacks`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any, Iterable, Optional

from infra.engine.cost import prices
from infra.engine.diff import StackDiff
from infra.engine.summary import COMPUTED, money, short_type
from infra.flows import FlowResult
from infra.report.drill import DrillTimeline
from infra.report.model import SIGNS, STATUSES, Architecture
from infra.report.stacks import StackSummary
from infra.report.worldmap import CountryRoute, colours
from policies.pack import POLICIES


MAP_FILE = "routing-map.svg"
TIMELINE_FILE = "drill-timeline.svg"

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#24292f;color:#fff;padding:16px 28px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0;color:#d0d7de}
main{padding:8px 28px 40px;max-width:1500px}
h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{text-align:right}
.ok{color:#1a7f37;font-weight:bold} .bad{color:#cf222e;font-weight:bold} .muted{color:#656d76}
.create{color:#1a7f37} .update{color:#b35900} .replace{color:#8250df} .delete{color:#cf222e}
#diagram svg{width:100%;height:auto;max-height:900px;border:1px solid #d0d7de}
.chart{width:100%;max-width:1100px;border:1px solid #d0d7de}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
details{margin:6px 0} summary{cursor:pointer;font-weight:bold}
code{font-size:12px;word-break:break-all}
"""


@dataclass
class PageData:
    arch: Architecture
    summaries: list[StackSummary]
    routes: list[CountryRoute]
    routing_version: str
    timeline: DrillTimeline
    diffs: Optional[list[StackDiff]] = None
    diff_source: str = ""
    node_changes: dict[str, dict[str, int]] = field(default_factory=dict)
    flows: list[FlowResult] = field(default_factory=list)


def _verdict(ok: Optional[bool], yes: str = "within budget", no: str = "over budget") -> str:
    if ok is None:
        return '<span class="muted">not modeled</span>'
    return f'<span class="ok">{yes}</span>' if ok else f'<span class="bad">{no}</span>'


def _value(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list) and value and all(v == COMPUTED for v in value):
        return escape(f"{len(value)} × {COMPUTED}")
    text = json.dumps(value)
    if len(text) > 240:  # a whole table (the routing table): its size, not its text
        return escape(f"{{{len(value)} keys}}" if isinstance(value, dict) else f"[{len(value)} items]")
    return escape(text)


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(text: Any, num: bool = False) -> str:
    return f'<td class="num">{text}</td>' if num else f"<td>{text}</td>"


def _overview(data: PageData) -> str:
    rows = []
    for s in data.summaries:
        r = s.recovery
        region = data.arch.region(s.stack) if any(x.stack == s.stack for x in data.arch.regions) else None
        rpo = (f"lag alarm {r.lag_alarm_seconds:.0f} s" if r.lag_alarm_seconds is not None else "writer")
        rpo += f", RPO {r.rpo_seconds} s" if r.rpo_seconds is not None else ""
        rows.append([
            _td(f"<b>{escape(s.stack)}</b>"), _td(escape(s.aws_region)), _td(escape(s.role)),
            _td(escape(region.cidr) if region else ""), _td(s.counts["total"], True), _td(s.counts["cloud"], True),
            _td(money(s.cost.total), True),
            _td(f"{r.rto_seconds} s (fast profile {r.rto_fast_seconds} s) vs {r.rto_budget_seconds} s: "
                f"{_verdict(r.rto_ok)}" if r.rto_seconds is not None else _verdict(None)),
            _td(f"{escape(rpo)} vs {r.rpo_budget_seconds} s: {_verdict(r.rpo_ok)}"),
            _td(_verdict(not s.policy.mandatory, "PASS", "FAIL")
                + f" ({len(s.policy.mandatory)} mandatory, {len(s.policy.findings) - len(s.policy.mandatory)} advisory)"),
        ])
    total = sum(s.cost.total for s in data.summaries)
    return (_table(["stack", "AWS region", "role", "VPC", "resources", "cloud resources", "monthly cost",
                    "modeled RTO", "RPO", "policy"], rows, "overview")
            + f'<p class="muted">Estimated monthly cost of all stacks: <b>{money(total)}</b> (list prices of '
              f'{escape(str(prices()["date"]))}, usage not included). RTO budget from the spec: 5 minutes, '
              f'modeled as detection + max(DNS TTL, promotion) + reconnect; RPO budget: 1 minute, held by the '
              f'replication lag alarm firing below it.</p>')


def _diagram(data: PageData, svg: str) -> str:
    legend = "".join(f'<span><i class="swatch" style="background:{c}"></i>{k}</span>' for k, c in (
        ("peering", "#3b6fd4"), ("replication primary → secondary", "#b35900"), ("DNS routing", "#6a4fb3"),
        ("health check", "#2e7d32"), ("CDN origin", "#00796b")))
    if data.diffs is not None:
        legend += "".join(f'<span class="{s}"><i class="swatch" style="background:currentColor"></i>{s}d</span>'
                          for s in STATUSES)
    return f'<div class="legend">{legend}</div><div id="diagram">{svg}</div>'


def _changes(data: PageData) -> str:
    if data.diffs is None:
        return ('<p class="muted">No earlier plan given: run with <code>--diff DIR</code> (a folder written by '
                '<code>python -m infra.cli plan --all --out DIR</code>) to see what a change creates, updates and '
                'deletes, marked on the diagram.</p>')
    rows = [[_td(escape(d.stack) + ("" if d.baseline else ' <span class="muted">(new stack)</span>')),
             *(_td(f'<span class="{s}">{SIGNS[s]}{d.counts()[s]}</span>', True) for s in STATUSES),
             _td(d.unchanged, True), _td(len(_changed_outputs(d)), True)] for d in data.diffs]
    out = [f"<p>Against the plan in <code>{escape(data.diff_source)}</code>.</p>",
           _table(["stack", *STATUSES, "unchanged", "outputs changed"], rows, "diff")]
    for d in data.diffs:
        if not d.changed:
            continue
        items = []
        for refusal in d.refusals:
            items.append([_td('<span class="delete">refused</span>'), _td(escape(short_type(refusal.type))),
                          _td(escape(refusal.message))])
        for status, c in d.steps():
            forced = (f' <span class="replace">(forced by {escape(", ".join(c.forced_by))})</span>'
                      if c.forced_by else "")
            detail = "".join(f"<br><code>{escape(ch.path)}</code>" for ch in c.changes[:8])
            items.append([_td(f'<span class="{status}">{status}</span>'), _td(escape(short_type(c.type))),
                          _td(escape(c.name) + forced + detail)])
        for output, paths in _changed_outputs(d).items():
            items.append([_td('<span class="update">output</span>'), _td(""),
                          _td(f"<code>{escape(output)}</code>" + (f" ({paths} values)" if paths > 1 else ""))])
        out.append(f"<details><summary>{escape(d.totals())}</summary>"
                   + _table(["change", "type", "resource"], items) + "</details>")
    return "".join(out)


def _changed_outputs(diff: StackDiff) -> dict[str, int]:
    """Changed stack outputs by name, with how many values changed in each (the routing
    table is one output with a value per country)."""
    found: dict[str, int] = {}
    for change in diff.outputs:
        name = change.path.split(".")[0].split("[")[0]
        found[name] = found.get(name, 0) + 1
    return found


def _routing(data: PageData) -> str:
    stacks = [r.stack for r in data.arch.regions]
    palette = colours(stacks)
    overrides = [r for r in data.routes if r.override]
    counts = {s: sum(1 for r in data.routes if r.stack == s) for s in stacks}
    legend = "".join(f'<span><i class="swatch" style="background:{palette[s][0]}"></i>{escape(s)}: '
                     f'{counts[s]} countries</span>' for s in stacks)
    rows = [[_td(f"{escape(r.code)} {escape(r.name)}"), _td(escape(r.continent)),
             _td(f'<i class="swatch" style="background:{palette.get(r.stack, ("#999",) * 2)[1]}"></i>'
                 f"{escape(r.stack)}")] for r in sorted(overrides, key=lambda r: (r.stack, r.code))]
    return (f'<p>Routing table <code>{escape(data.routing_version)}</code>: continent rules, with country '
            f'overrides (darker shade) where a continent rule would send users more than 1.25 × farther than '
            f'their nearest region.</p><div class="legend">{legend}</div>'
            f'<img class="chart" id="routing-map" src="{MAP_FILE}" alt="world map of the routing table">'
            f"<details><summary>{len(overrides)} country overrides</summary>"
            + _table(["country", "continent", "served by"], rows) + "</details>")


def _policies(data: PageData) -> str:
    findings = {(s.stack, f.policy): [] for s in data.summaries for f in s.policy.findings}
    for s in data.summaries:
        for f in s.policy.findings:
            findings[(s.stack, f.policy)].append(f)
    rows = []
    for policy in POLICIES:
        cells = [_td(f"<code>{escape(policy.name)}</code>"), _td(escape(str(policy.enforcement_level.value)))]
        for s in data.summaries:
            if policy.name in s.policy.not_applicable:
                cells.append(_td('<span class="muted">n/a</span>'))
            elif (s.stack, policy.name) in findings:
                messages = "; ".join(escape(f.message) for f in findings[(s.stack, policy.name)][:3])
                cells.append(_td(f'<span class="bad">✗</span> {messages}'))
            else:
                cells.append(_td('<span class="ok">✓</span>'))
        rows.append(cells)
    verdicts = [[_td(escape(s.stack)), _td(_verdict(not s.policy.mandatory, "PASS", "FAIL")),
                 _td(len(s.policy.mandatory), True), _td(len(s.policy.findings) - len(s.policy.mandatory), True),
                 _td(s.policy.resources, True)] for s in data.summaries]
    return (_table(["stack", "verdict", "mandatory violations", "advisory violations", "resources checked"],
                   verdicts, "policy")
            + f"<details><summary>{len(POLICIES)} rules by stack</summary>"
            + _table(["rule", "level", *(escape(s.stack) for s in data.summaries)], rows) + "</details>")


def _flows(data: PageData) -> str:
    stacks = list(dict.fromkeys(r.stack for r in data.flows))
    names = list(dict.fromkeys(r.flow for r in data.flows))
    by = {(r.stack, r.flow): r for r in data.flows}
    rows = []
    for name in names:
        cells = [_td(f"<code>{escape(name)}</code>")]
        for stack in stacks:
            result = by.get((stack, name))
            if result is None:
                cells.append(_td('<span class="muted">—</span>'))
            elif result.ok:
                cells.append(_td(f'<span class="ok">✓</span> {len(result.hops)} hops'))
            else:
                block = result.blocking
                mark = "?" if block.unknown else "✗"
                cells.append(_td(f'<span class="bad">{mark}</span> {escape(block.name)}: {escape(block.detail)}'))
        rows.append(cells)
    held = sum(r.ok for r in data.flows)
    details = "".join(
        f"<details><summary>{escape(r.stack)} · {escape(r.flow)}: {escape(r.description)}</summary>"
        + _table(["hop", "verdict", "detail"], [[_td(escape(h.name)), _td(escape(h.verdict)), _td(escape(h.detail))]
                                                for h in r.hops]) + "</details>" for r in data.flows)
    return (f"<p>{held} of {len(data.flows)} flows hold on the plans (network path, identity, wiring; "
            "<code>python -m infra.cli flows --all</code>).</p>"
            + _table(["flow", *(escape(s) for s in stacks)], rows, "flows") + details)


def _drill(data: PageData) -> str:
    t = data.timeline
    rows = [[_td(escape(s.name)), _td(f"{s.modeled_seconds:g} s", True),
             _td(f"{s.measured_seconds:g} s" if s.measured_seconds is not None else "—", True)] for s in t.steps]
    rows.append([_td("<b>total</b>"), _td(f"<b>{t.modeled_total:g} s</b>", True),
                 _td(f"<b>{t.measured_total:g} s</b>" if t.measured_total is not None else "—", True)])
    worst = max(t.modeled_total, t.measured_total or 0)
    return (f"<p>{escape(t.title)} (from {escape(t.source)}); RTO budget {t.budget_seconds:g} s: "
            f"{_verdict(worst < t.budget_seconds)}.</p>"
            f'<img class="chart" id="drill-timeline" src="{TIMELINE_FILE}" alt="DR drill timeline">'
            + _table(["step", "modeled", "measured"], rows))


def _stack_details(data: PageData) -> str:
    out = []
    for s in data.summaries:
        changed = {k: v for k, v in data.node_changes.items() if k.startswith(f"{s.stack}:")}
        types = _table(["type", "count"], [[_td(escape(t)), _td(n, True)] for t, n in s.by_type])
        outputs = _table(["output", "value"], [[_td(f"<code>{escape(k)}</code>"), _td(f"<code>{_value(v)}</code>")]
                                               for k, v in s.outputs.items()])
        cost = _table(["region", "monthly"], [[_td(escape(region)), _td(money(usd), True)]
                                              for region, usd in sorted(s.cost.by_region.items())])
        if s.cost.per_use:
            cost += "<p>Charged per use, not in the estimate:</p>" + _table(
                ["what", "price"], [[_td(escape(what)), _td(escape(price))] for what, price in s.cost.per_use])
        if s.cost.unpriced:
            cost += "<p>Not priced, counted as $0: " + escape(", ".join(sorted(s.cost.unpriced))) + "</p>"
        marks = ", ".join(f"{k.split(':', 1)[1]}: " + " ".join(f"{SIGNS[st]}{n}" for st, n in v.items() if n)
                          for k, v in sorted(changed.items()))
        out.append(f'<section class="stack" id="stack-{escape(s.stack)}"><h3>{escape(s.stack)} · '
                   f"{escape(s.aws_region)} · {escape(s.role)}</h3>"
                   + (f"<p>Changed on the diagram: {escape(marks)}</p>" if marks else "")
                   + f"<details><summary>{s.counts['total']} resources by type</summary>{types}</details>"
                   + f"<details><summary>{len(s.outputs)} stack outputs (secrets redacted)</summary>{outputs}</details>"
                   + f"<details><summary>estimated monthly cost {money(s.cost.total)} by region</summary>{cost}"
                     f"</details></section>")
    return "".join(out)


def render(data: PageData, diagram_svg: str) -> str:
    stacks = ", ".join(f"{r.stack} ({r.aws_region}, {r.role})" for r in data.arch.regions)
    total = sum(s.counts["total"] for s in data.summaries)
    sections = [
        ("overview", "Stacks", _overview(data)),
        ("architecture", "Architecture", _diagram(data, diagram_svg)),
        ("changes", "Changes", _changes(data)),
        ("routing", "Routing", _routing(data)),
        ("policies", "Policy verdicts", _policies(data)),
        ("flows", "Flows", _flows(data)),
        ("drill", "DR drill timeline", _drill(data)),
        ("stacks", "Per stack", _stack_details(data)),
    ]
    body = "".join(f'<section id="{sid}"><h2>{title}</h2>{content}</section>' for sid, title, content in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>HSE Digital platform plan</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>{CSS}</style></head><body>'
            f"<header><h1>HSE Digital platform: offline plan</h1><p>{len(data.summaries)} stacks, {total} resources: "
            f"{escape(stacks)}</p></header><main>{body}</main></body></html>\n")
