"""Which region serves a request: for application code, with no Pulumi and no third-party import.

    from resolver.region_resolver import Resolver
    resolver = Resolver(routing_table_json)            # the `routingTable` stack output
    region = resolver.resolve(request.headers, tenant_preference="eu-west", residency="EU")

The table is the one the DNS records are made from (`infra/domain/routing_table.py`), so the
application and DNS agree. The country comes from the first usable header, in this
order: the CDN's own headers, which a client cannot forge through that CDN
(`cf-ipcountry`, `cloudfront-viewer-country`, `x-vercel-ip-country`), then the platform's
`x-geo-country`. Anything unusable (missing, empty, lower case, not two letters, `XX` unknown, `T1`
Tor, `A1`/`A2`/`O1` anonymous or satellite, a country the table does not know) is
skipped; with no usable header the primary serves. Nothing here raises on input.

A tenant's preferred region wins over geography. A tenant's residency zone (a continent
code, e.g. `EU` for GDPR) is a hard limit: the answer is always a region inside the zone,
the nearest healthy one, never one outside it, even when all of the zone is unhealthy;
when no deployed region lies in the zone at all, the answer is None (refuse the request).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

HEADER_PRECEDENCE = ("cf-ipcountry", "cloudfront-viewer-country", "x-vercel-ip-country", "x-geo-country")
NOT_A_COUNTRY = frozenset({"XX", "T1", "A1", "A2", "O1", "ZZ", "EU", "AP"})
_CODE = re.compile(r"[A-Z]{2}")


class Resolver:
    """Answers from one routing table (the `routingTable` stack output, as a dict)."""

    def __init__(self, table: Mapping[str, Any]):
        self.regions: dict[str, str] = dict(table["regions"])
        self.continents: dict[str, str] = dict(table["continents"])
        self.overrides: dict[str, str] = dict(table["overrides"])
        self.default: str = table["default"]
        self.nearest: dict[str, list[str]] = {k: list(v) for k, v in table.get("nearest", {}).items()}
        self.zones: dict[str, list[str]] = {k: list(v) for k, v in table.get("zones", {}).items()}
        self.continent_of: dict[str, str] = dict(table.get("countryContinents", {}))
        self.version: str = table.get("version", "")

    def country(self, headers: Mapping[str, Any]) -> Optional[str]:
        """The first usable country code among the headers, or None."""
        try:
            lowered = {str(k).strip().lower(): v for k, v in dict(headers).items()}
        except Exception:  # noqa: BLE001 - a header mapping that cannot be read is no country
            return None
        for name in HEADER_PRECEDENCE:
            value = lowered.get(name)
            if not isinstance(value, str) or len(value) > 8:
                continue
            # CDNs send upper case; anything else is not their header, so it is not trusted.
            code = value.strip()
            if _CODE.fullmatch(code) and code not in NOT_A_COUNTRY and code in self.nearest:
                return code
        return None

    def route(self, country: Optional[str]) -> str:
        """The region the table gives a country (the primary when there is none)."""
        if country is None:
            return self.default
        return self.overrides.get(country) or self.continents.get(self.continent_of.get(country, ""), self.default)

    def resolve(self, headers: Mapping[str, Any], tenant_preference: Optional[str] = None,
                residency: Optional[str] = None, healthy: Optional[Iterable[str]] = None) -> Optional[str]:
        """The stack that should serve this request: a deployed one, or None when the tenant's
        residency zone holds no deployed region."""
        try:
            return self._resolve(headers, tenant_preference, residency, healthy)
        except Exception:  # noqa: BLE001 - resolution must never take a request down
            return None if residency is not None else self.default

    def _resolve(self, headers, tenant_preference, residency, healthy) -> Optional[str]:
        up = set(self.regions) if healthy is None else {s for s in healthy if s in self.regions}
        country = self.country(headers)
        wanted = tenant_preference if tenant_preference in self.regions else self.route(country)
        # Candidates in order: the wanted region, then every region by distance from the user.
        order = [wanted] + [s for s in self.nearest.get(country or "", []) if s != wanted]
        order += [s for s in sorted(self.regions) if s not in order]
        if residency is not None:
            allowed = self.zones.get(str(residency).strip().upper()) if isinstance(residency, str) else None
            if not allowed:
                return None  # nothing may serve outside the zone, and nothing is inside it
            order = [s for s in order if s in allowed] or list(allowed)
            return next((s for s in order if s in up), order[0])
        return next((s for s in order if s in up), wanted)
