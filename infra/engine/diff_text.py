"""A plan diff as lines of text, in the style of `pulumi preview --diff`: the one
wording the terminal, the pull-request Markdown and the report share.

Each line comes with its kind (`create`, `update`, `replace`, `delete`, `refused`,
`data-loss`, `note`) so a reader can colour it; the text itself needs no colour:

    +- aws.ec2.Vpc  hse-eu-west-vpc  (replace: cidrBlock)
        ~ cidrBlock: "10.1.0.0/16" → "10.9.0.0/16"  [forces replacement]
    ~  aws.route53.Record  hse-us-east-geo-EU
        ~ setIdentifier: ...

Large outputs are summarised (the routing table has a value per country): more than
`OUTPUT_DETAIL` changed values under one output become one line with the number of
entries changed in each of its parts (countries, for the routing table's `nearest`), and
the countries whose first choice changed counted by their new region; `verbose` lists
every path.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterator

from infra.domain.stateful import STATEFUL_TYPES
from infra.engine.diff import ABSENT, CREATE, DELETE, REPLACE, UPDATE, Change, ResourceChange, StackDiff
from infra.engine.summary import COMPUTED, short_type

OUTPUT_DETAIL = 8
_LONG = 160
_MARK = {CREATE: "+", UPDATE: "~", REPLACE: "+-", DELETE: "-"}


def value_text(value: Any) -> str:
    """A value on one line: strings quoted, long values cut with their size."""
    if value is ABSENT:
        return "(none)"
    if isinstance(value, list) and value and all(v == COMPUTED for v in value):
        return f"{len(value)} × {COMPUTED}"
    if value == COMPUTED:
        return COMPUTED
    text = json.dumps(value, sort_keys=True)
    if len(text) > _LONG:
        if isinstance(value, dict):
            return f"{{{len(value)} keys}}"
        if isinstance(value, list):
            return f"[{len(value)} items]"
        return text[:_LONG - 1] + "…\""
    return text


def change_text(change: Change) -> str:
    if change.kind == "add":
        text = f"+ {change.path}: {value_text(change.new)}"
    elif change.kind == "remove":
        text = f"- {change.path}: {value_text(change.old)}"
    else:
        text = f"~ {change.path}: {value_text(change.old)} → {value_text(change.new)}"
    return text + ("  [forces replacement]" if change.forces else "")


def _heading(step: str, r: ResourceChange) -> str:
    if step == DELETE and r.retained:
        return f"{_MARK[step]} {short_type(r.type)}  {r.name}  (retained: leaves the stack, stays in the cloud)"
    if step != REPLACE:
        return f"{_MARK[step]} {short_type(r.type)}  {r.name}"
    mark, how = ("-+", "delete before replace") if r.delete_before_replace else ("+-", "replace")
    kept = "; the old one is retained" if r.retained else ""
    return f"{mark} {short_type(r.type)}  {r.name}  ({how}: {', '.join(sorted(set(r.forced_by)))}{kept})"


def _entry(path: str) -> tuple[str, str]:
    """The part of an output a change is in, and its entry there:
    `routingTable.nearest.BR[0]` -> (`nearest`, `BR`); `routingTable.version` -> (`version`, ``)."""
    parts = path.replace("[", ".[").split(".")[1:]
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 and not parts[1].startswith("[") else "")


def output_lines(changes: list[Change], verbose: bool) -> Iterator[str]:
    by_output: dict[str, list[Change]] = {}
    for change in changes:
        by_output.setdefault(change.path.split(".")[0].split("[")[0], []).append(change)
    for output, items in by_output.items():
        if verbose or len(items) <= OUTPUT_DETAIL:
            yield from (change_text(c) for c in items)
            continue
        entries: dict[str, set[str]] = {}
        for c in items:
            part, entry = _entry(c.path)
            entries.setdefault(part, set()).add(entry)
        yield (f"~ {output}: {len(items)} values changed; entries changed per part: "
               + ", ".join(f"{part} {len(keys)}" for part, keys in sorted(entries.items())))
        firsts = Counter(str(c.new) for c in items if c.path.startswith(f"{output}.nearest.")
                         and c.path.endswith("[0]") and c.new is not ABSENT)
        added = Counter(str(c.new[0]) for c in items if c.path.startswith(f"{output}.nearest.")
                        and c.kind == "add" and isinstance(c.new, list) and c.new)
        firsts.update(added)
        if firsts:
            yield ("    countries whose nearest region changed, by the new one: "
                   + ", ".join(f"{region} {n}" for region, n in firsts.most_common()))
        yield "    (--verbose lists every path)"


def diff_lines(diff: StackDiff, verbose: bool = False) -> Iterator[tuple[str, str]]:
    """(kind, text) for every line of a stack's diff."""
    if not diff.baseline:
        yield "note", f"no earlier plan of {diff.stack}: every resource is new"
    for refusal in diff.refusals:
        first, *rest = refusal.message.split("\n")
        yield "refused", f"error: {first}"
        for line in rest:
            yield "refused", f"       {line}"
    for step, r in diff.data_loss:
        what = f"{step} of {short_type(r.type)} {r.name} loses {STATEFUL_TYPES[r.type]}"
        if diff.is_accepted(r):
            yield "note", f"data loss accepted (--allow-data-loss {r.name}): {what}"
        else:
            yield "data-loss", f"data loss: {what}; to accept it, name it: --allow-data-loss {r.name}"
    for step, r in diff.steps():
        if step == CREATE and not diff.baseline and not verbose:
            continue
        yield step, "  " + _heading(step, r)
        for change in r.changes:
            yield step, "      " + change_text(change)
    if diff.outputs and (diff.baseline or verbose):
        yield "note", "  outputs:"
        for line in output_lines(diff.outputs, verbose):
            yield "note", "    " + line
