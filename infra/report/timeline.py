"""The DR drill timeline chart (matplotlib, drawn to SVG): one row per step, the modeled
duration as a light bar and the measured one as a dark bar, each step starting where the
previous ended, against a vertical line at the RTO budget (the spec's 5 minutes)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: draw to files only
from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

from infra.report.drill import DrillTimeline  # noqa: E402

MODELED, MEASURED, BUDGET = "#9ecae1", "#08519c", "#cf222e"


def to_svg(timeline: DrillTimeline) -> str:
    rows = len(timeline.steps) + 1
    fig = Figure(figsize=(10, 1.6 + 0.55 * rows), dpi=96)
    ax = fig.add_subplot()
    labels = [s.name for s in timeline.steps] + ["total"]
    modeled_start = measured_start = 0.0
    labelled = False
    for i, step in enumerate(timeline.steps):
        y = rows - 1 - i
        ax.barh(y + 0.17, step.modeled_seconds, left=modeled_start, height=0.32, color=MODELED,
                label="modeled" if i == 0 else None)
        if step.measured_seconds is not None:
            ax.barh(y - 0.17, step.measured_seconds, left=measured_start, height=0.32, color=MEASURED,
                    label=None if labelled else "measured")
            labelled = True
            measured_start += step.measured_seconds
        modeled_start += step.modeled_seconds
    ax.barh(0.17, timeline.modeled_total, height=0.32, color=MODELED)
    ax.text(timeline.modeled_total, 0.17, f"  {timeline.modeled_total:.0f} s", va="center", fontsize=9)
    if timeline.measured_total is not None:
        ax.barh(-0.17, timeline.measured_total, height=0.32, color=MEASURED)
        ax.text(timeline.measured_total, -0.17, f"  {timeline.measured_total:.0f} s", va="center", fontsize=9)
    ax.axvline(timeline.budget_seconds, color=BUDGET, linewidth=2, linestyle="--",
               label=f"RTO budget {timeline.budget_seconds:.0f} s")
    ax.set_yticks(range(rows - 1, -1, -1), labels)
    ax.set_xlabel("seconds since the failure")
    ax.set_xlim(0, max(timeline.budget_seconds, timeline.modeled_total, timeline.measured_total or 0) * 1.12)
    ax.set_title(timeline.title, fontsize=11, loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=9, frameon=False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
