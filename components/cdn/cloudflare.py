"""The CDN on Cloudflare (see `components/cdn_distribution.py` for what every provider does).

Zone settings for the protocol and TLS requirements, one cache-rules ruleset built from
the rules table, and `www.<zone>` as a proxied record in front of `app.<domain>`.
Cloudflare applies every matching cache rule, so each rule's expression excludes the
paths of the rules before it (`infra.domain.cdn_rules.exclusive`). Cloudflare sets
`cf-ipcountry` itself (the resolver's first header). All resources use their own
explicit provider (token from `cloudflare:apiToken` or CLOUDFLARE_API_TOKEN).
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from infra.domain.cdn_rules import API, MIN_TLS, Syntax, exclusive

SYNTAX = Syntax(prefix='starts_with(http.request.uri.path, "{value}")',
                suffix='http.request.uri.path.extension eq "{value}"',
                any_of=" or ", and_not="({own}) and not ({other})", always="true")
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
    zone = cloudflare.get_zone_output(zone_id=zone_id, opts=pulumi.InvokeOptions(provider=provider))
    cdn_host = zone.name.apply(lambda zone_name: f"www.{zone_name}")
    cloudflare.DnsRecord(f"{name}-www", zone_id=zone_id, name=cdn_host, type="CNAME", content=args.origin_host,
                         proxied=True, ttl=1, comment="hse CDN: proxied to the geolocation-routed origin", opts=opts)
    return cdn_host, ruleset.id
