"""The CDN on Cloudflare (see `components/cdn_distribution.py` for what every provider does).

Zone settings for the protocol and TLS requirements, one cache-rules ruleset built from
the rules table, and `www.<zone>` as a proxied record in front of `app.<domain>`.
Cloudflare applies every matching cache rule, so each rule's expression excludes the
paths of the rules before it (`infra.domain.cdn_rules.exclusive`). Cloudflare sets
`cf-ipcountry` itself (the resolver's first header). All resources use their own
explicit provider (token from `cloudflare:apiToken` or CLOUDFLARE_API_TOKEN).

Rules test the `raw.` URI fields: the path as the viewer sent it, before any URL rewrite.
An image variant is rewritten to Cloudflare's transformation path, and must still be
cached and classified as the image the viewer asked for.

Image optimization: image transformations on the zone (`image_resizing` on, not `open`,
so only this zone's images are transformed), and URL rewrite rules that send the image
paths, and nothing else, through `/cdn-cgi/image/` with a configured width (or the
largest), the quality, and the first configured format the browser's Accept lists; the
query string is dropped, so each image has a bounded set of variants. A custom firewall
rule refuses (400) a width outside the set, and viewers' own `/cdn-cgi/image/` URLs
(which could name any width). Cloudflare fetches originals for a transformation with
`Via: image-resizing`; the rewrite skips those requests, or it would loop
(developers.cloudflare.com/images/transform-images/serve-images-custom-paths). Polish is
not used: the transformations already re-encode at the configured quality and choose
WebP or AVIF, and Polish would only work on what they produce.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare

from infra.domain.cdn_rules import API, IMAGES, MIN_TLS, CacheRule, Syntax, exclusive
from infra.domain.image_variants import MEDIA_TYPES, WIDTH_PARAM, ImageSettings

SYNTAX = Syntax(prefix='starts_with(raw.http.request.uri.path, "{value}")',
                suffix='raw.http.request.uri.path.extension eq "{value}"',
                any_of=" or ", and_not="({own}) and not ({other})", always="true")
NOT_A_TRANSFORMATION = 'not any(http.request.headers["via"][*] contains "image-resizing")'
TRANSFORMATION_PATH = "/cdn-cgi/image/"
# setting id -> value: HTTP/3, TLS 1.2+, HTTPS only, validated TLS to the origin, and the
# viewer's country in cf-ipcountry. Brotli and gzip to viewers are always on at Cloudflare
# (the `brotli` setting was retired in 2024).
ZONE_SETTINGS = {"http3": "on", "min_tls_version": MIN_TLS, "always_use_https": "on", "ssl": "strict",
                 "ip_geolocation": "on"}


def build(name: str, args, parent: pulumi.Resource) -> tuple[pulumi.Output, pulumi.Output]:
    provider = cloudflare.Provider(f"{name}-cloudflare", api_token=args.cloudflare_api_token,
                                   opts=pulumi.ResourceOptions(parent=parent))
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    zone_id = args.cloudflare_zone_id
    for setting, value in ZONE_SETTINGS.items():
        cloudflare.ZoneSetting(f"{name}-{setting.replace('_', '-')}", zone_id=zone_id, setting_id=setting,
                               value=value, opts=opts)
    rules = []
    for rule, earlier in exclusive(args.rules):
        if rule.kind == API:
            parameters = {"cache": False}
        else:
            parameters = {"cache": True, "edge_ttl": {"mode": "override_origin", "default": rule.ttl},
                          "browser_ttl": {"mode": "respect_origin"}}
        rules.append({"action": "set_cache_settings", "expression": SYNTAX.expression(rule, earlier),
                      "description": f"hse {rule.name}: " + (f"{rule.ttl} s at the edge" if rule.cached
                                                              else "never cached"),
                      "enabled": True, "action_parameters": parameters})
    ruleset = cloudflare.Ruleset(f"{name}-cache-rules", zone_id=zone_id, kind="zone",
                                 phase="http_request_cache_settings", name="hse cache rules",
                                 description="Static a year, dynamic an hour, /api/* never", rules=rules, opts=opts)
    if args.images:
        _image_rules(name, args.rules, args.images, zone_id, opts)
    zone = cloudflare.get_zone_output(zone_id=zone_id, opts=pulumi.InvokeOptions(provider=provider))
    cdn_host = zone.name.apply(lambda zone_name: f"www.{zone_name}")
    cloudflare.DnsRecord(f"{name}-www", zone_id=zone_id, name=cdn_host, type="CNAME", content=args.origin_host,
                         proxied=True, ttl=1, comment="hse CDN: proxied to the geolocation-routed origin", opts=opts)
    return cdn_host, ruleset.id


def image_paths(all_rules: tuple[CacheRule, ...]) -> str:
    """The paths whose first matching rule is an image rule."""
    return SYNTAX.kind(all_rules, IMAGES)


def _accepts(fmt: str) -> str:
    return f'any(http.request.headers["accept"][*] contains "{MEDIA_TYPES[fmt]}")'


def image_rewrites(all_rules: tuple[CacheRule, ...], settings: ImageSettings) -> list[dict]:
    """One rewrite per (width given or not) × (format chosen by Accept, or none): mutually exclusive."""
    paths = image_paths(all_rules)
    width = f'raw.http.request.uri.args["{WIDTH_PARAM}"][0]'
    offered = "{" + " ".join(f'"{w}"' for w in settings.widths) + "}"
    has_width = f'any(raw.http.request.uri.args.names[*] == "{WIDTH_PARAM}")'
    choices: list[tuple[Optional[str], str]] = []
    for i, fmt in enumerate(settings.formats):
        before = [f"not {_accepts(f)}" for f in settings.formats[:i]]
        choices.append((fmt, " and ".join([_accepts(fmt), *before])))
    choices.append((None, " and ".join(f"not {_accepts(f)}" for f in settings.formats)))
    rules = []
    for given in (True, False):
        for fmt, accept in choices:
            options = f",quality={settings.quality}" + (f",format={fmt}" if fmt else "") + ",fit=scale-down,metadata=none"
            size = f'"{TRANSFORMATION_PATH}width=", {width}, "' if given else \
                f'"{TRANSFORMATION_PATH}width={settings.max_width}'
            test = f"{width} in {offered}" if given else f"not {has_width}"
            rules.append({
                "action": "rewrite", "enabled": True,
                "description": f"hse image variant: {'requested' if given else 'largest'} width, {fmt or 'original format'}",
                "expression": f"({paths}) and {NOT_A_TRANSFORMATION} and {test} and {accept}",
                "action_parameters": {"uri": {"path": {"expression": f'concat({size}{options}", raw.http.request.uri.path)'},
                                              "query": {"value": ""}}}})
    return rules


def image_refusals(all_rules: tuple[CacheRule, ...], settings: ImageSettings) -> list[dict]:
    """400 for a width outside the set (or given twice) on an image path, and for a viewer's own
    transformation URL."""
    offered = "{" + " ".join(f'"{w}"' for w in settings.widths) + "}"
    args = f'raw.http.request.uri.args["{WIDTH_PARAM}"]'
    bad_width = (f'any(raw.http.request.uri.args.names[*] == "{WIDTH_PARAM}") and '
                 f'(len({args}) > 1 or not {args}[0] in {offered})')
    refuse = {"response": {"status_code": 400, "content_type": "text/plain",
                           "content": f"width not offered; valid: {', '.join(map(str, settings.widths))}"}}
    return [
        {"action": "block", "enabled": True, "description": "hse images: a width outside cdnImageWidths",
         "expression": f"({image_paths(all_rules)}) and {bad_width}", "action_parameters": refuse},
        {"action": "block", "enabled": True, "description": "hse images: transformation URLs only through the rewrite",
         "expression": f'starts_with(raw.http.request.uri.path, "{TRANSFORMATION_PATH}")',
         "action_parameters": {"response": {"status_code": 400, "content_type": "text/plain",
                                            "content": "request images by their own path and ?w="}}},
    ]


def _image_rules(name: str, all_rules: tuple[CacheRule, ...], settings: ImageSettings, zone_id: str,
                 opts: pulumi.ResourceOptions) -> None:
    cloudflare.ZoneSetting(f"{name}-image-resizing", zone_id=zone_id, setting_id="image_resizing", value="on",
                           opts=opts)
    cloudflare.Ruleset(f"{name}-image-rewrites", zone_id=zone_id, kind="zone", phase="http_request_transform",
                       name="hse image variants", description="Image paths through image transformations",
                       rules=image_rewrites(all_rules, settings), opts=opts)
    cloudflare.Ruleset(f"{name}-image-guard", zone_id=zone_id, kind="zone", phase="http_request_firewall_custom",
                       name="hse image guard", description="Only the configured widths; no direct transformation URLs",
                       rules=image_refusals(all_rules, settings), opts=opts)
