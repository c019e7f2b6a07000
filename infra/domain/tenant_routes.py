"""Tenant routing preferences: `<tenant>=<stack>` or `<tenant>=<stack>@<zone>`.

The spec lets a tenant name a preferred region (overriding geography) and keeps a
tenant's data inside a residency zone (GDPR). A zone is a continent code (`EU`, `NA`,
`AS`, ...): a tenant with a zone is only ever served by regions located in it, so its
preferred region must lie there too, and it fails over only to other regions there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from infra.domain.cache_acl import TENANT_ID, TENANT_ID_RULE
from infra.domain.routing_table import CONTINENTS

FORMAT = "'<tenant>=<stack>' or '<tenant>=<stack>@<zone>', e.g. 'acme=eu-west@EU'"
_ENTRY = re.compile(r"^(?P<tenant>[^=@\s]+)=(?P<stack>[^=@\s]+)(?:@(?P<zone>[^=@\s]+))?$")


@dataclass(frozen=True)
class TenantRoute:
    tenant: str
    stack: str
    """The preferred region's stack."""
    zone: Optional[str] = None
    """The residency zone (continent code), or None when the tenant may be served anywhere."""


def parse(entry: str) -> tuple[Optional[TenantRoute], Optional[str]]:
    """One entry -> (route, None) or (None, what is wrong)."""
    match = _ENTRY.match(entry.strip()) if isinstance(entry, str) else None
    if match is None:
        return None, f"{entry!r} is not a tenant route; valid: {FORMAT}"
    tenant, stack, zone = match["tenant"], match["stack"], match["zone"]
    if not TENANT_ID.match(tenant):
        return None, f"{entry!r}: tenant {tenant!r} is not a tenant id; a tenant id is {TENANT_ID_RULE}"
    if zone is not None and zone not in CONTINENTS:
        return None, f"{entry!r}: residency zone {zone!r} is not a continent code; valid: {', '.join(CONTINENTS)}"
    return TenantRoute(tenant, stack, zone), None
