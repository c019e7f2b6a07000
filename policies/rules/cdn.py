"""CDN rules: the CloudFront distribution and its cache policies.

checkov's CloudFront checks, and the spec's CDN: HTTPS, TLS 1.2, HTTP/2 and HTTP/3,
gzip and Brotli, three TTL classes (static 1 year, dynamic 1 hour, `/api/*` never cached),
and image optimization that cannot be turned into an open door: bounded variants, the
originals still private, the transformation function least-privilege.
"""

from __future__ import annotations

import json

from infra.domain import image_variants as iv
from policies import types as t
from policies.rule import MANDATORY, as_list, of_type, resource_policy, setting, stack_outputs, stack_policy

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


def _document(policy) -> dict:
    try:
        return json.loads(policy) if isinstance(policy, str) else dict(policy or {})
    except (TypeError, ValueError):
        return {}


def _image_paths(args) -> set[str]:
    """The path patterns of the image rules, from the stack's `cdnRules` output."""
    table = stack_outputs(args).get("cdnRules") or {}
    return {p for rule in as_list(table.get("rules")) if rule.get("kind") == "images" for p in as_list(rule.get("paths"))}


def image_variants_bounded(args, report_violation):
    """The configured widths and formats are bounded, and CloudFront keys image variants on `w` and `f` only,
    normalised before the cache by a viewer-request function."""
    images = (stack_outputs(args).get("cdnRules") or {}).get("images") or {}
    if images.get("enabled"):
        widths = [w for w in as_list(images.get("widths"))]
        if iv.width_problems(widths) or iv.format_problems(as_list(images.get("formats"))):
            report_violation(f"CDN image variants must be 1 to {iv.MAX_WIDTHS} widths of {iv.MIN_WIDTH} to "
                             f"{iv.MAX_WIDTH} px in avif and/or webp (found widths {widths}, formats "
                             f"{as_list(images.get('formats'))}).")
    paths = _image_paths(args)
    policies = {p.props.get("id"): p.props for p in of_type(args, t.CACHE_POLICY)}
    for dist in of_type(args, t.DISTRIBUTION):
        for behavior in as_list(dist.props.get("orderedCacheBehaviors")):
            if behavior.get("pathPattern") not in paths:
                continue
            params = (policies.get(behavior.get("cachePolicyId")) or {}).get("parametersInCacheKeyAndForwardedToOrigin") or {}
            query = params.get("queryStringsConfig") or {}
            keyed = set(as_list((query.get("queryStrings") or {}).get("items")))
            viewer = [a for a in as_list(behavior.get("functionAssociations")) if a.get("eventType") == "viewer-request"]
            if query.get("queryStringBehavior") != "whitelist" or not keyed <= {iv.WIDTH_PARAM, iv.FORMAT_PARAM} \
                    or not viewer:
                report_violation(f"CloudFront image behavior {behavior.get('pathPattern')} must key its cache on the "
                                 "variant (w, f) only, normalised by a viewer-request function.", dist.urn)


def _allows_anyone(statement: dict) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def image_originals_private(args, report_violation):
    """The bucket an image transformation reads stays private: public access blocked, and its policy
    admits no one but the distribution (the function reads through its own role)."""
    blocks = {b.props.get("bucket"): b.props for b in of_type(args, t.BUCKET_PUBLIC_ACCESS_BLOCK)}
    policies = {p.props.get("bucket"): _document(p.props.get("policy")) for p in of_type(args, t.BUCKET_POLICY)}
    buckets = {b.props.get("bucketRegionalDomainName"): b for b in of_type(args, t.BUCKET)}
    for dist in of_type(args, t.DISTRIBUTION):
        origins = {o.get("originId"): o for o in as_list(dist.props.get("origins"))}
        transformed = {b.get("targetOriginId") for b in as_list(dist.props.get("orderedCacheBehaviors"))
                       if any(a.get("eventType") == "origin-request" for a in as_list(b.get("lambdaFunctionAssociations")))}
        for origin_id in sorted(o for o in transformed if o in origins):
            bucket = buckets.get(origins[origin_id].get("domainName"))
            if bucket is None:
                continue  # an app origin: nothing of AWS's to keep private
            name = bucket.props.get("bucket")
            block = blocks.get(name) or {}
            if not all(block.get(k) is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                      "restrictPublicBuckets")):
                report_violation(f"Image originals bucket {bucket.name} must block all public access.", bucket.urn)
            for statement in as_list(policies.get(name, {}).get("Statement")):
                if statement.get("Effect") != "Allow":
                    continue
                principal = statement.get("Principal")
                source = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("AWS:SourceArn")
                if _allows_anyone(statement) or principal != {"Service": "cloudfront.amazonaws.com"} or \
                        source != dist.props.get("arn"):
                    report_violation(f"Image originals bucket {bucket.name} must admit only this distribution "
                                     f"(found an Allow for {json.dumps(principal)}).", bucket.urn)


def _s3_object_under_uploads(resource: str) -> bool:
    arn, _, key = str(resource).partition("/")
    return arn.startswith("arn:aws:s3:::") and "*" not in arn and key == f"{iv.UPLOADS_PREFIX}*"


def image_function_least_privilege(args, report_violation):
    """The transformation function may read the uploads' objects and write its own logs, nothing else;
    no managed policy, and only Lambda and Lambda@Edge may assume its role."""
    roles = {r.props.get("arn"): r for r in of_type(args, t.IAM_ROLE)}
    for function in of_type(args, t.LAMBDA_FUNCTION):
        if function.props.get("handler") != iv.HANDLER_NAME:
            continue
        role = roles.get(function.props.get("role"))
        if role is None:
            report_violation("Image transformation function must run with a role of its own in this stack.",
                             function.urn)
            continue
        name = role.props.get("name")
        trust = {p for s in as_list(_document(role.props.get("assumeRolePolicy")).get("Statement"))
                 for p in as_list((s.get("Principal") or {}).get("Service") if isinstance(s.get("Principal"), dict)
                                  else s.get("Principal"))}
        if not trust <= {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}:
            report_violation(f"Image transformation role may be assumed by Lambda only (found {sorted(trust)}).",
                             role.urn)
        if [a for a in of_type(args, t.ROLE_POLICY_ATTACHMENT) if a.props.get("role") == name]:
            report_violation("Image transformation role must have no managed policies attached.", role.urn)
        own_logs = f":log-group:/aws/lambda/us-east-1.{function.props.get('name')}"
        for policy in of_type(args, t.ROLE_POLICY):
            if policy.props.get("role") != name:
                continue
            for statement in as_list(_document(policy.props.get("policy")).get("Statement")):
                if statement.get("Effect") != "Allow":
                    continue
                actions = set(as_list(statement.get("Action")))
                resources = as_list(statement.get("Resource"))
                if statement.get("NotAction") or statement.get("NotResource") or not actions <= iv.FUNCTION_ACTIONS:
                    report_violation("Image transformation function may only read uploads and write its logs "
                                     f"(found {sorted(actions) or statement.get('NotAction')}).", policy.urn)
                elif "s3:GetObject" in actions and not all(_s3_object_under_uploads(r) for r in resources):
                    report_violation("Image transformation function may read only the uploads' objects "
                                     f"(found {resources}).", policy.urn)
                elif actions & {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} and \
                        not all(own_logs in str(r) for r in resources):
                    report_violation(f"Image transformation function may write only its own logs (found {resources}).",
                                     policy.urn)


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
    stack_policy("cdn-image-variants-bounded", "Image variants are bounded: configured widths and formats only, "
                 "keyed on the variant alone.", image_variants_bounded, level=MANDATORY, domain=DOMAIN),
    stack_policy("cdn-image-originals-private", "The bucket image variants are made from stays private to the "
                 "distribution.", image_originals_private, level=MANDATORY, domain=DOMAIN),
    stack_policy("image-function-least-privilege", "The image transformation function only reads uploads and "
                 "writes its own logs.", image_function_least_privilege, level=MANDATORY, domain=DOMAIN),
]
