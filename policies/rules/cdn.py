"""CDN rules: the CloudFront distribution and its cache policies.

checkov's CloudFront checks, and the spec's CDN: HTTPS, TLS 1.2, HTTP/2 and HTTP/3,
gzip and Brotli, and three TTL classes (static 1 year, dynamic 1 hour, `/api/*` never cached).
"""

from __future__ import annotations

from policies import types as t
from policies.rule import MANDATORY, as_list, of_type, resource_policy, setting, stack_policy

DOMAIN = "cdn"
STATIC_TTL = 31_536_000
DYNAMIC_TTL = 3_600
API_PATH = "/api/*"
STATIC_PATH = "/assets/*"


def _behaviors(props) -> list:
    return [props.get("defaultCacheBehavior") or {}, *as_list(props.get("orderedCacheBehaviors"))]


def https_only(args, report_violation):
    if any(b.get("viewerProtocolPolicy") not in ("redirect-to-https", "https-only") for b in _behaviors(args.props)):
        report_violation("CloudFront cache behaviors must redirect HTTP to HTTPS or allow HTTPS only.")


def tls_1_2(args, report_violation):
    cert = args.props.get("viewerCertificate") or {}
    if cert.get("cloudfrontDefaultCertificate") or not str(cert.get("minimumProtocolVersion", "")).startswith("TLSv1.2"):
        report_violation("CloudFront must require TLS 1.2 or later from viewers.")


def waf(args, report_violation):
    if not args.props.get("webAclId"):
        report_violation("CloudFront distribution must be protected by a WAF web ACL.")


def access_logging(args, report_violation):
    if not (args.props.get("loggingConfig") or {}).get("bucket"):
        report_violation("CloudFront distribution must write access logs.")


def origin_failover(args, report_violation):
    groups = as_list(args.props.get("originGroups"))
    if not any(len(as_list(g.get("members"))) >= 2 and (g.get("failoverCriteria") or {}).get("statusCodes") for g in groups):
        report_violation("CloudFront distribution must have an origin group that fails over between two origins.")


def s3_origin_access(args, report_violation):
    for origin in as_list(args.props.get("origins")):
        is_s3 = ".s3." in str(origin.get("domainName", "")) or origin.get("s3OriginConfig") is not None
        identity = (origin.get("s3OriginConfig") or {}).get("originAccessIdentity")
        if is_s3 and not origin.get("originAccessControlId") and not identity:
            report_violation(f"CloudFront S3 origin {origin.get('originId')} must use origin access control.")


def http2_and_http3(args, report_violation):
    if args.props.get("httpVersion") != "http2and3":
        report_violation("CloudFront distribution must serve HTTP/2 and HTTP/3 (httpVersion http2and3).")


def compression(args, report_violation):
    if args.resource_type == t.DISTRIBUTION:
        if any(b.get("compress") is not True for b in _behaviors(args.props)):
            report_violation("CloudFront cache behaviors must compress responses.")
        return
    params = args.props.get("parametersInCacheKeyAndForwardedToOrigin") or {}
    if params.get("enableAcceptEncodingGzip") is not True or params.get("enableAcceptEncodingBrotli") is not True:
        report_violation("CloudFront cache policy must accept gzip and Brotli encodings.")


def cache_ttl_classes(args, report_violation):
    """`/api/*` is never cached, static assets for a year, everything else (dynamic) for an hour."""
    static_ttl = setting(args, "staticTtlSeconds", STATIC_TTL)
    dynamic_ttl = setting(args, "dynamicTtlSeconds", DYNAMIC_TTL)
    policies = {p.props.get("id"): p.props for p in of_type(args, t.CACHE_POLICY)}
    for dist in of_type(args, t.DISTRIBUTION):
        behaviors = {b.get("pathPattern", "*"): b for b in _behaviors(dist.props)}
        wanted = {API_PATH: (0, "no cache"), STATIC_PATH: (static_ttl, f"{static_ttl} s"), "*": (dynamic_ttl, f"{dynamic_ttl} s")}
        for path, (ttl, label) in wanted.items():
            behavior = behaviors.get(path)
            policy = policies.get((behavior or {}).get("cachePolicyId"), {})
            found = policy.get("defaultTtl")
            capped = path != API_PATH or (policy.get("maxTtl") or 0) <= 1
            if behavior is None or found != ttl or not capped:
                report_violation(f"CloudFront behavior {path} must be cached for {label} (found {found}).", dist.urn)


POLICIES = [
    resource_policy("cloudfront-https-only", "CloudFront serves viewers over HTTPS only.",
                    https_only, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN, checkov=["CKV_AWS_34"]),
    resource_policy("cloudfront-tls-1-2", "CloudFront requires TLS 1.2 or later.",
                    tls_1_2, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN, checkov=["CKV_AWS_174"]),
    resource_policy("cloudfront-waf", "CloudFront is protected by a WAF web ACL.",
                    waf, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN, checkov=["CKV_AWS_68"]),
    resource_policy("cloudfront-access-logging", "CloudFront writes access logs.",
                    access_logging, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN, checkov=["CKV_AWS_86"]),
    resource_policy("cloudfront-origin-failover", "CloudFront fails over between origins.",
                    origin_failover, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN, checkov=["CKV_AWS_310"]),
    resource_policy("cloudfront-s3-origin-access", "CloudFront reads S3 origins through origin access control.",
                    s3_origin_access, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN, checkov=["CKV2_AWS_46"]),
    resource_policy("cloudfront-http2-and-http3", "CloudFront serves HTTP/2 and HTTP/3.",
                    http2_and_http3, level=MANDATORY, types=[t.DISTRIBUTION], domain=DOMAIN),
    resource_policy("cdn-compression", "The CDN compresses with gzip and Brotli.",
                    compression, level=MANDATORY, types=[t.DISTRIBUTION, t.CACHE_POLICY], domain=DOMAIN),
    stack_policy("cdn-cache-ttl-classes", "The CDN caches static assets 1 year, dynamic content 1 hour and /api/* not at all.",
                 cache_ttl_classes, level=MANDATORY, domain=DOMAIN,
                 config={"staticTtlSeconds": {"type": "integer", "default": STATIC_TTL},
                         "dynamicTtlSeconds": {"type": "integer", "default": DYNAMIC_TTL}}),
]
