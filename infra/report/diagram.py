"""The architecture diagram: `model.Architecture` drawn by Graphviz (the `graphviz`
package driving Debian's `dot`) as inline SVG.

One cluster per region (its VPC, workloads, database, Redis, health check), the global
pieces above them (CDN, DNS, the global database), peering as two-headed arrows,
replication as bold arrows from the primary. Each node and edge carries its model id
and its change status as SVG classes (`node-create`, `edge-update`, ...), so the page
styles what a diff touches and a test can find it.
"""

from __future__ import annotations

import re

import graphviz

from infra.report.model import Architecture, Edge, edge_id

FONT = "DejaVu Sans"
STATUS_COLOURS = {"create": "#1a7f37", "update": "#b35900", "replace": "#8250df", "delete": "#cf222e"}
_FILL = {"vpc": "#e8f0fe", "app": "#ffffff", "database": "#fdf2e9", "global-database": "#fbe3cf",
         "cache": "#fde8e8", "health-check": "#eef7ee", "dns": "#ede7f6", "cdn": "#e0f2f1"}
_SHAPE = {"database": "cylinder", "global-database": "cylinder", "cache": "box3d", "dns": "hexagon",
          "cdn": "cds", "health-check": "note"}
_EDGE_STYLE = {
    "peering": {"dir": "both", "color": "#3b6fd4", "style": "dashed", "constraint": "false"},
    "replication": {"color": "#b35900", "penwidth": "2.4"},
    "member": {"color": "#b3a089", "style": "dotted", "arrowhead": "none"},
    "routing": {"color": "#6a4fb3"},
    "origin": {"color": "#00796b"},
    "checks": {"color": "#2e7d32", "style": "dashed"},
    "uses": {"color": "#777777", "arrowsize": "0.6"},
}


class DiagramError(Exception):
    """Graphviz is missing or failed: a one-line message."""


def _safe(id_: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", id_)


def to_dot(arch: Architecture) -> graphviz.Digraph:
    """The Graphviz graph of an architecture (no rendering: usable without `dot`)."""
    graph = graphviz.Digraph("platform", graph_attr={
        "rankdir": "TB", "fontname": FONT, "bgcolor": "white", "pad": "0.3", "nodesep": "0.35", "ranksep": "0.6",
        "newrank": "true"}, node_attr={"fontname": FONT, "fontsize": "11", "style": "filled", "shape": "box"},
        edge_attr={"fontname": FONT, "fontsize": "9"})

    def add_node(g, node) -> None:
        status = arch.status.get(node.id)
        attrs = {"fillcolor": _FILL.get(node.kind, "#ffffff"), "shape": _SHAPE.get(node.kind, "box"),
                 "id": f"node-{_safe(node.id)}", "class": f"kind-{node.kind}" + (f" node-{status}" if status else ""),
                 "tooltip": node.label}
        if status:
            attrs.update(color=STATUS_COLOURS[status], penwidth="3")
            if status == "delete":
                attrs["style"] = "filled,dashed"
        label = node.label + (f"\n[{status}: {arch.mark_text(node.id)}]" if status else "")
        g.node(_safe(node.id), label, **attrs)

    for node in arch.nodes:
        if not node.stack and node.kind != "global-database":
            add_node(graph, node)
    for region in arch.regions:
        with graph.subgraph(name=f"cluster_{_safe(region.stack)}") as cluster:
            cluster.attr(label=f"{region.stack} · {region.aws_region} · {region.role}", fontsize="13",
                         style="rounded,filled", fillcolor="#fafafa", color="#9e9e9e", id=f"region-{_safe(region.stack)}")
            for node in arch.nodes:
                if node.stack == region.stack:
                    add_node(cluster, node)
    with graph.subgraph(name="global_data") as bottom:
        bottom.attr(rank="max")
        for node in arch.nodes:
            if node.kind == "global-database":
                add_node(bottom, node)

    def add_edge(edge: Edge) -> None:
        status = arch.status.get(edge_id(edge))
        attrs = dict(_EDGE_STYLE.get(edge.kind, {}))
        attrs.update(id=f"edge-{_safe(edge_id(edge))}", **{"class": f"edge-{edge.kind}"
                                                               + (f" edge-{status}" if status else "")})
        if status:
            attrs.update(color=STATUS_COLOURS[status], penwidth="3")
        graph.edge(_safe(edge.source), _safe(edge.target), edge.label, **attrs)

    for edge in arch.edges:
        add_edge(edge)
    return graph


def to_svg(arch: Architecture) -> str:
    """The diagram as an SVG document (without the XML prolog, ready to inline in HTML)."""
    try:
        svg = to_dot(arch).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise DiagramError("Graphviz's `dot` is not installed (Debian: apt-get install graphviz; "
                           "scripts/test-services.sh installs it)") from None
    except graphviz.CalledProcessError as exc:
        raise DiagramError(f"Graphviz failed: {(exc.stderr or b'').decode(errors='replace').strip()}") from None
    return svg[svg.index("<svg"):]
