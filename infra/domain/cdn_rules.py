"""The CDN's cache rules, defined once for every provider (CloudFront, Cloudflare,
Fastly) and exported as a table for a custom CDN.

The spec: static assets (JavaScript bundles, CSS, images, fonts, uploads) cached for a
year, dynamic content for an hour, API responses never; gzip and Brotli; HTTP/2 and
HTTP/3; HTTPS only, TLS 1.2 or later; image optimization. Rules are matched in order,
first match wins, so `/api/*` comes first: `/api/report.js` is an API response, never a
cached asset.

With image optimization on, two `images` rules come before the classes they narrow:
uploaded images (`/uploads/*.jpg`, ...) before the other uploads, and static image types
(`*.png`, ...) before the other static assets. Their variants (a width from a bounded set,
a format from `Accept`: `infra/domain/image_variants.py`) are cached as long as static
assets, each variant under its own key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from infra.domain.image_variants import IMAGE_EXTENSIONS, ImageSettings

API, STATIC, DYNAMIC, IMAGES = "api", "static", "dynamic", "images"
APP_ORIGIN, UPLOADS_ORIGIN = "app", "uploads"
MIN_TLS = "1.2"
VIEWER_COUNTRY_HEADER = "x-geo-country"
"""What the edge sets from its own geolocation (the resolver's last-resort header)."""
FASTLY_SHIELDS = {"us-east-1": "iad-va-us", "us-east-2": "iad-va-us", "us-west-1": "sjc-ca-us",
                  "us-west-2": "sea-wa-us", "sa-east-1": "gru-br-sa", "eu-west-1": "london-uk",
                  "eu-west-2": "london-uk", "eu-west-3": "cdg-par-fr", "eu-central-1": "frankfurt-de",
                  "ap-northeast-1": "tokyo-jp2", "ap-southeast-1": "singapore-sg", "ap-southeast-2": "sydney-au",
                  "ap-south-1": "singapore-sg"}
"""The Fastly shield POP nearest each AWS region (Fastly's own table in its Magento module's backend
guide, fastly/fastly-magento2 Documentation/Guides/BACKEND-SETTINGS.md). The Image Optimizer
requires every backend to be shielded; the shield sits by the primary, which owns the CDN."""


@dataclass(frozen=True)
class CacheRule:
    name: str
    kind: Literal["api", "static", "dynamic", "images"]
    paths: tuple[str, ...]
    """Path patterns: `/prefix/*`, `*.ext` or `/prefix/*.ext`; the dynamic rule is the default (`*`)."""
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


UPLOADS_PATH = "/uploads/*"
IMAGE_PATHS = tuple(f"*.{ext}" for ext in IMAGE_EXTENSIONS)
UPLOAD_IMAGE_PATHS = tuple(f"/uploads/*.{ext}" for ext in IMAGE_EXTENSIONS)
STATIC_PATHS = ("/assets/*", "/static/*", "*.js", "*.css", "*.woff2", "*.woff", *IMAGE_PATHS, "*.svg", "*.ico")
"""Without image optimization, raster images are static assets like any other."""


def rules(static_ttl: int, dynamic_ttl: int, images: Optional[ImageSettings] = None) -> tuple[CacheRule, ...]:
    """The rules in match order; the last is the default. With `images`, uploaded and static
    raster images get their own rules (before the classes they come from)."""
    upload_images = (CacheRule("upload-images", IMAGES, UPLOAD_IMAGE_PATHS, static_ttl, UPLOADS_ORIGIN,
                               all_methods=False),) if images else ()
    static_images = (CacheRule("static-images", IMAGES, IMAGE_PATHS, static_ttl, APP_ORIGIN, all_methods=False),) \
        if images else ()
    static_paths = tuple(p for p in STATIC_PATHS if p not in IMAGE_PATHS) if images else STATIC_PATHS
    return (
        CacheRule("api", API, ("/api/*",), 0, APP_ORIGIN, all_methods=True),
        *upload_images,
        CacheRule("uploads", STATIC, (UPLOADS_PATH,), static_ttl, UPLOADS_ORIGIN, all_methods=False),
        *static_images,
        CacheRule("static", STATIC, static_paths, static_ttl, APP_ORIGIN, all_methods=False),
        CacheRule("dynamic", DYNAMIC, ("*",), dynamic_ttl, APP_ORIGIN, all_methods=False),
    )


def table(static_ttl: int, dynamic_ttl: int, images: Optional[ImageSettings] = None) -> dict:
    """The rules and the edge requirements, as the `cdnRules` stack output documents them;
    `images` says what is done to the image rules' paths (`enabled` false: image optimization off)."""
    return {
        "rules": [r.to_json() for r in rules(static_ttl, dynamic_ttl, images)],
        "images": images.to_json() if images else {"enabled": False},
        "compression": ["br", "gzip"],
        "httpVersions": ["http2", "http3"],
        "viewerProtocol": "https-only (HTTP redirects to HTTPS)",
        "originProtocol": "https-only",
        "minimumTls": MIN_TLS,
        "viewerCountryHeader": VIEWER_COUNTRY_HEADER,
        "hsts": "max-age=31536000; includeSubDomains",
    }


def split(pattern: str) -> tuple[Optional[str], Optional[str]]:
    """A pattern's path prefix (`/uploads/`) and extension (`jpg`), each None where it has none."""
    if pattern.startswith("*."):
        return None, pattern[2:]
    prefix, _, rest = pattern.partition("*")
    return prefix, (rest[1:] if rest.startswith(".") else None)


def matches(pattern: str, path: str) -> bool:
    if pattern == "*":
        return True
    prefix, ext = split(pattern)
    return (prefix is None or path.startswith(prefix)) and (ext is None or path.endswith(f".{ext}"))


def match(path: str, static_ttl: int = 31_536_000, dynamic_ttl: int = 3600,
          images: Optional[ImageSettings] = None) -> CacheRule:
    """The rule a request path falls under (first match), as every provider applies it."""
    for rule in rules(static_ttl, dynamic_ttl, images):
        if any(matches(pattern, path) for pattern in rule.paths):
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
    both: str = "({first} and {second})"
    """Format of a prefix test and an extension test that must both hold (`/uploads/*.jpg`)."""

    def test(self, pattern: str) -> str:
        prefix, ext = split(pattern)
        if prefix is not None and ext is not None:
            return self.both.format(first=self.prefix.format(value=prefix), second=self.suffix.format(value=ext))
        if ext is not None:
            return self.suffix.format(value=ext)
        return self.prefix.format(value=prefix)

    def kind(self, all_rules: tuple[CacheRule, ...], kind: str) -> str:
        """Every path whose first matching rule is of `kind`: each such rule's own patterns without
        the patterns of the rules of other kinds before it."""
        parts, earlier = [], []
        for rule in all_rules:
            if rule.kind == kind:
                parts.append(f"({self.expression(rule, tuple(earlier))})")
            else:
                earlier.extend(p for p in rule.paths if p != "*")
        return self.any_of.join(parts)

    def expression(self, rule: CacheRule, earlier: tuple[str, ...]) -> str:
        """`rule`'s match without `earlier`'s patterns."""
        own = self.always if "*" in rule.paths else self.any_of.join(self.test(p) for p in rule.paths)
        if not earlier:
            return own
        return self.and_not.format(own=own, other=self.any_of.join(self.test(p) for p in earlier))
