"""The CDN's cache rules, defined once for every provider (CloudFront, Cloudflare,
Fastly) and exported as a table for a custom CDN.

The spec: static assets (JavaScript bundles, CSS, images, fonts, uploads) cached for a
year, dynamic content for an hour, API responses never; gzip and Brotli; HTTP/2 and
HTTP/3; HTTPS only, TLS 1.2 or later. Rules are matched in order, first match wins, so
`/api/*` comes first: `/api/report.js` is an API response, never a cached asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

API, STATIC, DYNAMIC = "api", "static", "dynamic"
APP_ORIGIN, UPLOADS_ORIGIN = "app", "uploads"
MIN_TLS = "1.2"
VIEWER_COUNTRY_HEADER = "x-geo-country"
"""What the edge sets from its own geolocation (the resolver's last-resort header)."""


@dataclass(frozen=True)
class CacheRule:
    name: str
    kind: Literal["api", "static", "dynamic"]
    paths: tuple[str, ...]
    """Path patterns: `/prefix/*` or `*.ext`; the dynamic rule is the default (`*`)."""
    ttl: int
    """Seconds an edge keeps a response; 0: never cached."""
    origin: Literal["app", "uploads"]
    all_methods: bool
    """Whether writes (POST, PUT, PATCH, DELETE) pass through, or only GET, HEAD and OPTIONS."""

    @property
    def cached(self) -> bool:
        return self.ttl > 0

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "paths": list(self.paths), "ttlSeconds": self.ttl,
                "origin": self.origin, "methods": "all" if self.all_methods else "read"}


STATIC_PATHS = ("/assets/*", "/static/*", "*.js", "*.css", "*.woff2", "*.woff", "*.png", "*.jpg", "*.svg",
                "*.webp", "*.ico")


def rules(static_ttl: int, dynamic_ttl: int) -> tuple[CacheRule, ...]:
    """The rules in match order; the last is the default."""
    return (
        CacheRule("api", API, ("/api/*",), 0, APP_ORIGIN, all_methods=True),
        CacheRule("uploads", STATIC, ("/uploads/*",), static_ttl, UPLOADS_ORIGIN, all_methods=False),
        CacheRule("static", STATIC, STATIC_PATHS, static_ttl, APP_ORIGIN, all_methods=False),
        CacheRule("dynamic", DYNAMIC, ("*",), dynamic_ttl, APP_ORIGIN, all_methods=False),
    )


def table(static_ttl: int, dynamic_ttl: int) -> dict:
    """The rules and the edge requirements, as the `cdnRules` stack output documents them."""
    return {
        "rules": [r.to_json() for r in rules(static_ttl, dynamic_ttl)],
        "compression": ["br", "gzip"],
        "httpVersions": ["http2", "http3"],
        "viewerProtocol": "https-only (HTTP redirects to HTTPS)",
        "originProtocol": "https-only",
        "minimumTls": MIN_TLS,
        "viewerCountryHeader": VIEWER_COUNTRY_HEADER,
        "hsts": "max-age=31536000; includeSubDomains",
    }


def match(path: str, static_ttl: int = 31_536_000, dynamic_ttl: int = 3600) -> CacheRule:
    """The rule a request path falls under (first match), as every provider applies it."""
    for rule in rules(static_ttl, dynamic_ttl):
        for pattern in rule.paths:
            if pattern == "*" or (pattern.endswith("/*") and path.startswith(pattern[:-1])) or \
                    (pattern.startswith("*.") and path.endswith(pattern[1:])):
                return rule
    raise AssertionError("the default rule matches every path")


def exclusive(all_rules: tuple[CacheRule, ...]) -> list[tuple[CacheRule, tuple[str, ...]]]:
    """Each rule with the patterns of the rules before it, which it must not match.

    Providers that apply every matching rule (Cloudflare's cache rules, Fastly's
    conditions) get mutually exclusive expressions this way, so first-match-wins holds
    on them as it does on CloudFront."""
    earlier: list[str] = []
    out = []
    for rule in all_rules:
        out.append((rule, tuple(earlier)))
        earlier.extend(p for p in rule.paths if p != "*")
    return out


@dataclass(frozen=True)
class Syntax:
    """How a provider's rule language writes a path test and joins tests."""

    prefix: str
    """Format of a path-prefix test, with `{value}` the prefix (e.g. `/api/`)."""
    suffix: str
    """Format of a file-extension test, with `{value}` the extension (e.g. `js`)."""
    any_of: str
    """Joins tests with OR, e.g. ` or `."""
    and_not: str
    """Format of `{own}` and not `{other}`."""
    always: str
    """The expression that matches every request."""

    def test(self, pattern: str) -> str:
        if pattern.startswith("*."):
            return self.suffix.format(value=pattern[2:])
        return self.prefix.format(value=pattern[:-1])

    def expression(self, rule: CacheRule, earlier: tuple[str, ...]) -> str:
        """`rule`'s match without `earlier`'s patterns."""
        own = self.always if "*" in rule.paths else self.any_of.join(self.test(p) for p in rule.paths)
        if not earlier:
            return own
        return self.and_not.format(own=own, other=self.any_of.join(self.test(p) for p in earlier))
