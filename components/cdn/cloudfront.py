"""The CDN on CloudFront (see `components/cdn_distribution.py` for what every provider does).

One cache policy per class of content (Brotli and gzip are only negotiated through cache
policies), an origin request policy that forwards the viewer's country to the app
origins, the uploads bucket behind Origin Access Control, and the behaviours in the
rules' order. CloudFront's certificate, WAF and metrics live in us-east-1.

Image optimization (CloudFront has no optimizer of its own): on the image behaviours a
CloudFront Function (viewer request) reduces the query to the variant (`w` from the
configured widths, anything else refused with 400; `f` from `Accept`), the cache policy
keys on exactly those two parameters, and on a cache miss a Lambda@Edge function (origin
request, `functions/image_transform/`) reads the original from the behaviour's origin and
answers with the variant, which CloudFront caches for the static TTL. The origin stays
the private bucket behind Origin Access Control; the function reads it with its own role.

Why Lambda@Edge and not a Lambda function URL origin: no new origin and no new endpoint
(a function URL is reachable from the internet, even when it refuses unsigned calls), the
bucket stays the only origin of uploads with its one policy, and a failing function
leaves the request to that origin. The costs of that choice: Lambda@Edge lives in
us-east-1, runs x86_64 only, takes no layers and no environment variables (Pillow and the
settings travel in the package) and may generate at most 1 MB, so a larger variant falls
back to the original (AWS, "Restrictions on Lambda@Edge" and "Quotas on Lambda@Edge").
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.private_bucket import PrivateBucket, PrivateBucketArgs
from infra.domain.cdn_rules import API, APP_ORIGIN, IMAGES, UPLOADS_ORIGIN, VIEWER_COUNTRY_HEADER, CacheRule
from infra.domain.failover_package import lambda_files
from infra.domain.image_variants import (FORMAT_PARAM, HANDLER, HANDLER_NAME, MEDIA_TYPES, SETTINGS_FILE, WIDTH_PARAM,
                                         ImageSettings, function_policy)

READ_METHODS = ["GET", "HEAD", "OPTIONS"]
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
APP_GROUP = "app-failover"
FAILOVER_ORIGIN = "nearest"
HSTS_SECONDS = 31_536_000
# What the viewer-request function runs (cloudfront-js-2.0): the edge's own country
# lookup replaces whatever a client sent as x-geo-country.
GEO_FUNCTION = f"""function handler(event) {{
    var request = event.request;
    var country = request.headers['cloudfront-viewer-country'];
    request.headers['{VIEWER_COUNTRY_HEADER}'] = {{ value: country ? country.value : 'XX' }};
    return request;
}}
"""


ROOT = Path(__file__).resolve().parents[2]
PILLOW_BUILD = ROOT / "build" / "image-transform"
"""Pillow for Lambda@Edge (python3.12, x86_64), put there by `make image-package`."""
PILLOW_DIRECTORIES = ("PIL", "pillow.libs")
EDGE_RUNTIME = "python3.12"
EDGE_MEMORY_MB = 1536
EDGE_TIMEOUT_SECONDS = 30
"""Lambda@Edge on origin events: at most 30 s (and 10,240 MB)."""


def image_request_function(settings: ImageSettings) -> str:
    """The viewer-request code (cloudfront-js-2.0) of the image behaviours: the query becomes
    the variant, as `infra.domain.image_variants.normalise` defines it (tests run both)."""
    widths = ", ".join(str(w) for w in settings.widths)
    return f"""var WIDTHS = {json.dumps({str(w): True for w in settings.widths})};
var FORMATS = {json.dumps(list(settings.formats))};
var TYPES = {json.dumps({f: MEDIA_TYPES[f] for f in settings.formats})};

function accepted(header) {{
    var out = {{}};
    var parts = header.split(',');
    for (var i = 0; i < parts.length; i++) {{
        var fields = parts[i].split(';');
        var media = fields[0].trim().toLowerCase();
        var q = 1;
        for (var j = 1; j < fields.length; j++) {{
            var pair = fields[j].split('=');
            if (pair[0].trim().toLowerCase() === 'q') {{
                q = parseFloat(pair[1]);
                if (isNaN(q)) {{ q = 0; }}
            }}
        }}
        if (media && q > 0) {{ out[media] = true; }}
    }}
    return out;
}}

function refuse(message) {{
    return {{statusCode: 400, statusDescription: 'Bad Request',
             headers: {{'cache-control': {{value: 'no-store'}}, 'content-type': {{value: 'text/plain; charset=utf-8'}}}},
             body: {{encoding: 'text', data: message}}}};
}}

function handler(event) {{
    var request = event.request;
    var width = request.querystring['{WIDTH_PARAM}'];
    var out = {{}};
    if (width) {{
        if (width.multiValue && width.multiValue.length > 1) {{ return refuse('width given more than once'); }}
        if (!Object.prototype.hasOwnProperty.call(WIDTHS, width.value)) {{
            return refuse("width '" + width.value + "' is not offered; valid: {widths}");
        }}
        out['{WIDTH_PARAM}'] = {{value: width.value}};
    }}
    var accept = request.headers.accept ? accepted(request.headers.accept.value) : {{}};
    for (var k = 0; k < FORMATS.length; k++) {{
        if (accept[TYPES[FORMATS[k]]]) {{
            out['{FORMAT_PARAM}'] = {{value: FORMATS[k]}};
            break;
        }}
    }}
    request.querystring = out;
    return request;
}}
"""


def _cache_policy(name: str, rule: CacheRule, parent: pulumi.Resource) -> aws.cloudfront.CachePolicy:
    api = rule.kind == API
    images = rule.kind == IMAGES
    query = ({"query_string_behavior": "whitelist", "query_strings": {"items": sorted((FORMAT_PARAM, WIDTH_PARAM))}}
             if images else {"query_string_behavior": "all" if rule.origin == APP_ORIGIN else "none"})
    return aws.cloudfront.CachePolicy(
        f"{name}-cache-{rule.name}",
        comment=f"hse {rule.name}: {'never cached' if api else f'{rule.ttl} s at the edge'}"
                + (", one entry per variant (w, f)" if images else ""),
        min_ttl=0,
        default_ttl=rule.ttl,
        # A zero maximum would disable caching, and with it compression and the
        # Authorization header in the key; one second with a zero default caches nothing
        # the API does not ask for (it answers Cache-Control: no-store).
        max_ttl=1 if api else rule.ttl,
        parameters_in_cache_key_and_forwarded_to_origin={
            "enable_accept_encoding_brotli": True,
            "enable_accept_encoding_gzip": True,
            "cookies_config": {"cookie_behavior": "all" if api else "none"},
            "headers_config": ({"header_behavior": "whitelist", "headers": {"items": ["Authorization"]}} if api
                               else {"header_behavior": "none"}),
            # Images: the variant (`w`, `f`) only, normalised by the viewer function, so
            # the number of cached variants per image is bounded.
            "query_strings_config": query,
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )


def build(name: str, args, parent: pulumi.Resource) -> tuple[pulumi.Output, pulumi.Output]:
    us = pulumi.ResourceOptions(parent=parent, provider=args.global_provider)
    home = pulumi.ResourceOptions(parent=parent, provider=args.home)

    cert = aws.acm.Certificate(f"{name}-cert", domain_name=args.cdn_host, validation_method="DNS",
                               key_algorithm="EC_prime256v1", opts=us)
    option = cert.domain_validation_options.apply(lambda options: options[0])
    validation_record = aws.route53.Record(
        f"{name}-cert-validation", zone_id=args.zone_id, name=option.resource_record_name,
        type=option.resource_record_type, records=[option.resource_record_value], ttl=60, allow_overwrite=True,
        opts=home)
    validated = aws.acm.CertificateValidation(f"{name}-cert-validated", certificate_arn=cert.arn,
                                              validation_record_fqdns=[validation_record.fqdn], opts=us)

    uploads = PrivateBucket(f"{name}-uploads", PrivateBucketArgs(name_prefix=f"{args.name_prefix}uploads-",
                                                                 archive_days=args.archive_days), home)
    logs = PrivateBucket(f"{name}-logs", PrivateBucketArgs(
        name_prefix=f"{args.name_prefix}cdn-logs-", expire_days=args.log_retention_days,
        archive_days=args.archive_days if args.archive_days < args.log_retention_days else None,
        acl_log_delivery=True), home)
    oac = aws.cloudfront.OriginAccessControl(
        f"{name}-uploads-oac", description="CloudFront reads the uploads bucket, signed (SigV4)",
        origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4",
        opts=pulumi.ResourceOptions(parent=parent, provider=args.home))

    policies = {rule.name: _cache_policy(name, rule, parent) for rule in args.rules}
    forward = aws.cloudfront.OriginRequestPolicy(
        f"{name}-forward-app",
        comment="hse app origins: every viewer header (the host for the regional certificate) and the viewer's country",
        cookies_config={"cookie_behavior": "all"},
        headers_config={"header_behavior": "allViewerAndWhitelistCloudFront",
                        "headers": {"items": ["CloudFront-Viewer-Country"]}},
        query_strings_config={"query_string_behavior": "all"},
        opts=pulumi.ResourceOptions(parent=parent))
    security = aws.cloudfront.ResponseHeadersPolicy(
        f"{name}-security-headers", comment="hse: HSTS and browser security headers",
        security_headers_config={
            "strict_transport_security": {"access_control_max_age_sec": HSTS_SECONDS, "include_subdomains": True,
                                          "preload": False, "override": True},
            "content_type_options": {"override": True},
            "frame_options": {"frame_option": "DENY", "override": True},
            "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
        },
        opts=pulumi.ResourceOptions(parent=parent))
    geo = aws.cloudfront.Function(
        f"{name}-geo-header", runtime="cloudfront-js-2.0", publish=True, code=GEO_FUNCTION,
        comment=f"Sets {VIEWER_COUNTRY_HEADER} from CloudFront-Viewer-Country", opts=pulumi.ResourceOptions(parent=parent))
    acl = _web_acl(name, us) if args.waf else None
    image = _image_functions(name, args, uploads, parent) if args.images else None

    def origin(origin_id: str, host: str) -> dict:
        return {"origin_id": origin_id, "domain_name": host,
                "custom_origin_config": {"http_port": 80, "https_port": 443, "origin_protocol_policy": "https-only",
                                         "origin_ssl_protocols": ["TLSv1.2"], "origin_keepalive_timeout": 60,
                                         "origin_read_timeout": 30}}

    def behaviour(rule: CacheRule, path: str | None = None) -> dict:
        app = rule.origin == APP_ORIGIN
        target = UPLOADS_ORIGIN if not app else APP_ORIGIN if rule.all_methods else APP_GROUP
        spec = {
            "target_origin_id": target,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ALL_METHODS if rule.all_methods else READ_METHODS,
            "cached_methods": ["GET", "HEAD"],
            "compress": True,
            "cache_policy_id": policies[rule.name].id,
            "response_headers_policy_id": security.id,
        }
        if app:
            spec["origin_request_policy_id"] = forward.id
            spec["function_associations"] = [{"event_type": "viewer-request", "function_arn": geo.arn}]
        if rule.kind == IMAGES:
            assert image is not None, "image rules exist only with image optimization on"
            viewer, transform, _ = image
            spec["function_associations"] = [{"event_type": "viewer-request", "function_arn": viewer.arn}]
            spec["lambda_function_associations"] = [{"event_type": "origin-request", "include_body": False,
                                                     "lambda_arn": transform.qualified_arn}]
        if path is not None:
            spec["path_pattern"] = path
        return spec

    *ordered, default = args.rules
    distribution = aws.cloudfront.Distribution(
        f"{name}-distribution",
        comment=f"hse {args.cdn_host}",
        enabled=True,
        is_ipv6_enabled=True,
        http_version="http2and3",
        price_class=args.price_class,
        aliases=[args.cdn_host],
        origins=[
            origin(APP_ORIGIN, args.origin_host),
            origin(FAILOVER_ORIGIN, args.failover_host),
            {"origin_id": UPLOADS_ORIGIN, "domain_name": uploads.bucket.bucket_regional_domain_name,
             "origin_access_control_id": oac.id},
        ],
        origin_groups=[{"origin_id": APP_GROUP,
                        "failover_criteria": {"status_codes": [500, 502, 503, 504]},
                        "members": [{"origin_id": APP_ORIGIN}, {"origin_id": FAILOVER_ORIGIN}]}],
        ordered_cache_behaviors=[behaviour(rule, path) for rule in ordered for path in rule.paths],
        default_cache_behavior=behaviour(default),
        viewer_certificate={"acm_certificate_arn": validated.certificate_arn, "ssl_support_method": "sni-only",
                            "minimum_protocol_version": "TLSv1.2_2021"},
        restrictions={"geo_restriction": {"restriction_type": "none"}},
        logging_config={"bucket": logs.bucket.bucket_domain_name, "prefix": "cloudfront/", "include_cookies": False},
        web_acl_id=acl.arn if acl is not None else None,
        opts=pulumi.ResourceOptions(parent=parent, provider=args.global_provider,
                                    depends_on=[logs, *([image[2]] if image else [])]),
    )
    uploads.policy(f"{name}-uploads-policy", [{
        "Sid": "CloudFrontReadsUploads", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": pulumi.Output.concat(uploads.bucket.arn, "/*"),
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution.arn}}}])
    # Cache-hit ratio and error rates per distribution (the dashboard's CDN metrics).
    aws.cloudfront.MonitoringSubscription(
        f"{name}-metrics", distribution_id=distribution.id,
        monitoring_subscription={"realtime_metrics_subscription_config": {
            "realtime_metrics_subscription_status": "Enabled"}}, opts=us)
    for record_type in ("A", "AAAA"):
        aws.route53.Record(
            f"{name}-www-{record_type.lower()}", zone_id=args.zone_id, name=args.cdn_host, type=record_type,
            aliases=[{"name": distribution.domain_name, "zone_id": distribution.hosted_zone_id,
                      "evaluate_target_health": False}], opts=home)
    return pulumi.Output.from_input(args.cdn_host), distribution.id


def image_package(settings: ImageSettings, ttl: int) -> pulumi.AssetArchive:
    """The Lambda@Edge package: the handler and what it imports from this repository, its
    settings, and Pillow (built for the runtime by `make image-package`)."""
    files: dict[str, pulumi.Asset | pulumi.Archive] = {
        path: pulumi.FileAsset(str(file)) for path, file in lambda_files(ROOT, HANDLER).items()}
    files[SETTINGS_FILE] = pulumi.StringAsset(settings.settings_file(ttl))
    for directory in PILLOW_DIRECTORIES:
        files[directory] = pulumi.FileArchive(str(PILLOW_BUILD / directory))
    return pulumi.AssetArchive(files)


EDGE_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
    "Action": "sts:AssumeRole"}]})
"""Lambda@Edge runs the function's replicas as edgelambda.amazonaws.com."""


def _image_functions(name: str, args, uploads: PrivateBucket, parent: pulumi.Resource):
    """The viewer function, the Lambda@Edge function (us-east-1, a published version) and its policy."""
    us = pulumi.ResourceOptions(parent=parent, provider=args.global_provider)
    viewer = aws.cloudfront.Function(
        f"{name}-image-request", runtime="cloudfront-js-2.0", publish=True, code=image_request_function(args.images),
        comment="Image requests: w from the configured widths (else 400), f from Accept, nothing else",
        opts=pulumi.ResourceOptions(parent=parent))
    role = aws.iam.Role(f"{name}-image-transform", assume_role_policy=EDGE_TRUST,
                        description="hse CloudFront image variants (Lambda@Edge): reads the uploads, writes its logs",
                        opts=us)
    function = aws.lambda_.Function(
        f"{name}-image-transform", runtime=EDGE_RUNTIME, architectures=["x86_64"], handler=HANDLER_NAME,
        role=role.arn, code=image_package(args.images, args.static_ttl), publish=True,
        memory_size=EDGE_MEMORY_MB, timeout=EDGE_TIMEOUT_SECONDS,
        description="hse image variants for CloudFront (origin request): widths "
                    + ", ".join(map(str, args.images.widths)) + f"; {', '.join(args.images.formats)}; "
                    f"quality {args.images.quality}",
        opts=us)
    policy = aws.iam.RolePolicy(
        f"{name}-image-transform", role=role.name,
        policy=pulumi.Output.all(uploads.bucket.arn, function.name).apply(
            lambda v: json.dumps(function_policy(v[0], args.account_id, v[1]))), opts=us)
    return viewer, function, policy


def _web_acl(name: str, opts: pulumi.ResourceOptions) -> aws.wafv2.WebAcl:
    """AWS's common and known-bad-input rule sets and a per-IP rate limit, scoped to CloudFront."""

    def visibility(metric: str) -> dict:
        return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}

    # The common rule set blocks request bodies over 8 KB (SizeRestrictions_BODY); the API
    # takes larger JSON and uploads, so that one rule only counts.
    overrides = {"AWSManagedRulesCommonRuleSet": [{"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}]}
    managed = [{"name": group, "priority": priority, "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": {
                    "vendor_name": "AWS", "name": group,
                    **({"rule_action_overrides": overrides[group]} if group in overrides else {})}},
                "visibility_config": visibility(group)}
               for priority, group in enumerate(("AWSManagedRulesCommonRuleSet",
                                                 "AWSManagedRulesKnownBadInputsRuleSet"), start=1)]
    rate = {"name": "rate-limit-per-ip", "priority": 10, "action": {"block": {}},
            "statement": {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP",
                                                   "evaluation_window_sec": 300}},
            "visibility_config": visibility("rate-limit-per-ip")}
    return aws.wafv2.WebAcl(f"{name}-waf", scope="CLOUDFRONT", description="hse CDN: managed rules and a rate limit",
                            default_action={"allow": {}}, rules=[*managed, rate],
                            visibility_config=visibility("hse-cdn"), opts=opts)
