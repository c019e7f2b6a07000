"""The CDN on Fastly (see `components/cdn_distribution.py` for what every provider does).

A VCL service with the rules table as request conditions and cache settings (Fastly
applies every matching setting, so each condition excludes the earlier rules' paths),
gzip and Brotli, HTTP/3, TLS 1.2+ to the origin, HSTS, `x-geo-country` from Fastly's
geolocation, and a Fastly-managed certificate validated through Route53.

Image optimization: the service's Image Optimizer (product enablement, which needs every
backend shielded, and its default settings) on the image paths only, which a `recv`
snippet marks with `x-fastly-imageopto-api` at the edge and at the shield (Fastly: the
header must be set on both). At the edge, and only there, the snippet also reduces the
query to the variant: `w` from the configured widths (else 400) becomes `width` (no `w`:
the largest width), the first configured format the Accept header lists becomes `format`,
plus the quality; every other parameter goes, so the cache holds a bounded set of
variants per image (fastly.com/documentation/reference/io/, and the
X-Fastly-Imageopto-API header reference).
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_fastly as fastly

from infra.domain.cdn_rules import API, FASTLY_SHIELDS, IMAGES, MIN_TLS, VIEWER_COUNTRY_HEADER, CacheRule, Syntax, \
    exclusive
from infra.domain.image_variants import MEDIA_TYPES, WIDTH_PARAM, ImageSettings

SYNTAX = Syntax(prefix='req.url.path ~ "^{value}"', suffix='req.url.ext == "{value}"',
                any_of=" || ", and_not="({own}) && !({other})", always="true", both="({first} && {second})")
COMPRESSIBLE = ["text/html", "text/css", "application/javascript", "text/javascript", "application/json",
                "image/svg+xml", "font/ttf", "font/otf"]
# Fastly normalises Accept-Encoding to gzip before VCL runs; the client's original header
# tells whether it takes Brotli.
ACCEPT_BROTLI = """if (req.http.Fastly-Orig-Accept-Encoding ~ "br") {
  set req.http.Accept-Encoding = "br";
}
"""
# Brotli where the client accepts it, gzip otherwise, for what the origin sent uncompressed.
BROTLI = """if (!beresp.http.Content-Encoding && beresp.http.Content-Type ~ "^(text/|application/(javascript|json)|image/svg)") {
  if (req.http.Accept-Encoding == "br") {
    set beresp.brotli = true;
  } else {
    set beresp.gzip = true;
  }
}
"""


def image_snippet(all_rules: tuple[CacheRule, ...], settings: ImageSettings) -> str:
    """The `recv` snippet that sends the image paths, and only them, through the Image Optimizer."""
    paths = SYNTAX.kind(all_rules, IMAGES)
    widths = "|".join(str(w) for w in settings.widths)
    formats = "\n  } els".join(
        f'if (req.http.Accept ~ "(?i){MEDIA_TYPES[f]}") {{\n    set req.url = querystring.set(req.url, "format", "{f}");'
        for f in settings.formats)
    return f"""if (fastly.ff.visits_this_service == 0 && ({paths})) {{
  if (req.url.qs ~ "(?:^|&){WIDTH_PARAM}=[^&]*&(?:.*&)?{WIDTH_PARAM}=") {{
    error 400 "width given more than once";
  }}
  set req.http.x-hse-image-width = querystring.get(req.url, "{WIDTH_PARAM}");
  if (req.http.x-hse-image-width) {{
    if (req.http.x-hse-image-width !~ "^(?:{widths})$") {{
      error 400 "width not offered; valid: {', '.join(map(str, settings.widths))}";
    }}
  }} else {{
    set req.http.x-hse-image-width = "{settings.max_width}";
  }}
  set req.url = querystring.remove(req.url);
  set req.url = querystring.set(req.url, "width", req.http.x-hse-image-width);
  unset req.http.x-hse-image-width;
  {formats}
  }}
  set req.url = querystring.set(req.url, "quality", "{settings.quality}");
  set req.url = querystring.set(req.url, "fit", "bounds");
}}
if ({paths}) {{
  set req.http.x-fastly-imageopto-api = "fastly";
}}
"""


def build(name: str, args, parent: pulumi.Resource) -> tuple[pulumi.Output, pulumi.Output]:
    provider = fastly.Provider(f"{name}-fastly", api_key=args.fastly_api_key,
                               opts=pulumi.ResourceOptions(parent=parent))
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    conditions, cache_settings, request_settings = [], [], [{"name": "https-only", "force_ssl": True}]
    for rule, earlier in exclusive(args.rules):
        if "*" in rule.paths:
            continue  # the default: the service's default_ttl
        condition = f"hse-{rule.name}"
        conditions.append({"name": condition, "type": "CACHE", "statement": SYNTAX.expression(rule, earlier)})
        if rule.kind == API:
            # Pass in vcl_recv too: API requests never wait on a cache lookup.
            conditions.append({"name": f"{condition}-request", "type": "REQUEST",
                               "statement": SYNTAX.expression(rule, earlier)})
            request_settings.append({"name": "api-pass", "action": "pass", "request_condition": f"{condition}-request"})
        cache_settings.append({"name": f"hse-{rule.name}", "cache_condition": condition,
                               **({"action": "pass"} if rule.kind == API else {"action": "cache", "ttl": rule.ttl})})
    dynamic = args.rules[-1]
    images: Optional[ImageSettings] = args.images
    snippets = [{"name": "accept-brotli", "type": "recv", "content": ACCEPT_BROTLI, "priority": 100},
                {"name": "brotli", "type": "fetch", "content": BROTLI, "priority": 100}]
    if images:
        snippets.append({"name": "image-optimizer", "type": "recv", "content": image_snippet(args.rules, images),
                         "priority": 50})
    service = fastly.ServiceVcl(
        f"{name}-service",
        name=f"hse {args.cdn_host}",
        comment="hse CDN: static a year, dynamic an hour, /api/* never cached",
        domains=[{"name": args.cdn_host}],
        backends=[{"name": "app", "address": args.origin_host, "port": 443, "use_ssl": True,
                   "ssl_check_cert": True, "ssl_cert_hostname": args.origin_host,
                   "ssl_sni_hostname": args.origin_host, "override_host": args.origin_host,
                   "min_tls_version": MIN_TLS, "keepalive_time": 60,
                   **({"shield": FASTLY_SHIELDS[args.region]} if images else {})}],
        default_ttl=dynamic.ttl,
        conditions=conditions,
        cache_settings=cache_settings,
        gzips=[{"name": "compress", "content_types": COMPRESSIBLE,
                "extensions": ["js", "css", "html", "json", "svg"]}],
        snippets=snippets,
        product_enablement={"image_optimizer": True} if images else None,
        # Quality for every variant; WebP and AVIF are chosen in the snippet, by Accept; never upscaled.
        image_optimizer_default_settings={"name": "hse", "jpeg_quality": images.quality, "webp_quality": images.quality,
                                          "webp": False, "upscale": False, "resize_filter": "lanczos3",
                                          "allow_video": False, "jpeg_type": "auto"} if images else None,
        headers=[
            {"name": "hsts", "action": "set", "type": "response", "destination": "http.Strict-Transport-Security",
             "source": '"max-age=31536000; includeSubDomains"'},
            {"name": "geo-country", "action": "set", "type": "request",
             "destination": f"http.{VIEWER_COUNTRY_HEADER}", "source": "client.geo.country_code"},
        ],
        request_settings=request_settings,
        http3=True,
        force_destroy=False,
        opts=opts,
    )
    subscription = fastly.TlsSubscription(f"{name}-tls", domains=[args.cdn_host],
                                          certificate_authority="lets-encrypt",
                                          opts=pulumi.ResourceOptions(parent=parent, provider=provider,
                                                                      depends_on=[service]))
    home = pulumi.ResourceOptions(parent=parent, provider=args.home)
    challenge = subscription.managed_dns_challenges.apply(lambda challenges: challenges[0])
    validation_record = aws.route53.Record(
        f"{name}-tls-validation", zone_id=args.zone_id, name=challenge.record_name, type=challenge.record_type,
        records=[challenge.record_value], ttl=60, allow_overwrite=True, opts=home)
    fastly.TlsSubscriptionValidation(f"{name}-tls-validated", subscription_id=subscription.id,
                                     opts=pulumi.ResourceOptions(parent=parent, provider=provider,
                                                                 depends_on=[validation_record]))
    target = subscription.managed_http_challenges.apply(
        lambda challenges: next(c.record_values[0] for c in challenges if c.record_type == "CNAME"))
    aws.route53.Record(f"{name}-www", zone_id=args.zone_id, name=args.cdn_host, type="CNAME", records=[target],
                       ttl=60, opts=home)
    return pulumi.Output.from_input(args.cdn_host), service.id
