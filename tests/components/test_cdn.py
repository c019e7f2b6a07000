"""The CDN in the plan, on each provider: the same rules table (exact TTLs, compression,
protocol versions, viewer and origin policies, path patterns) everywhere, and image
optimization on the image paths only, with bounded variants, or off."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.cdn import cloudfront as cf
from components.cdn import fastly as fastly_cdn
from infra.domain import cdn_rules
from infra.domain import image_variants as iv
from infra.engine import Engine, StackPlan
from infra.engine.cost import estimate
from infra.engine.engine import OFFLINE_ACCOUNT_ID
from tests.conftest import copy_project, edit_stack

DOMAIN = "hse-digital.example.com"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
BUCKET = "aws:s3/bucket:Bucket"
ZONE_ID = "0123456789abcdef0123456789abcdef"
YEAR, HOUR = 31_536_000, 3600
IMAGES = iv.ImageSettings()
LAMBDA = "aws:lambda/function:Function"


def _primary_with(tmp_path_factory, label: str, **changes) -> StackPlan:
    project = copy_project(tmp_path_factory.mktemp(label) / "project")
    edit_stack(project, "us-east", **changes)
    return Engine(project).plan("us-east")


@pytest.fixture(scope="module")
def cloudflare(tmp_path_factory) -> StackPlan:
    return _primary_with(tmp_path_factory, "cloudflare", cdnProvider="cloudflare", cloudflareZoneId=ZONE_ID)


@pytest.fixture(scope="module")
def fastly(tmp_path_factory) -> StackPlan:
    return _primary_with(tmp_path_factory, "fastly", cdnProvider="fastly")


@pytest.fixture(scope="module")
def custom(tmp_path_factory) -> StackPlan:
    return _primary_with(tmp_path_factory, "custom", cdnProvider="custom")


@pytest.fixture(scope="module")
def cloudfront_plain(tmp_path_factory) -> StackPlan:
    return _primary_with(tmp_path_factory, "plain", cdnImageOptimization=False)


@pytest.fixture(scope="module")
def fastly_plain(tmp_path_factory) -> StackPlan:
    return _primary_with(tmp_path_factory, "fastly-plain", cdnProvider="fastly", cdnImageOptimization=False)


# -- the rules, defined once ---------------------------------------------------------------
PYTHON = cdn_rules.Syntax(prefix='path.startswith("{value}")', suffix='path.endswith(".{value}")',
                          any_of=" or ", and_not="({own}) and not ({other})", always="True")
SAMPLES = {"/api/health": "api", "/api/report.js": "api", "/api/avatars/a.png": "api",
           "/uploads/cat.png": "upload-images", "/uploads/t/acme/photo.jpeg": "upload-images",
           "/uploads/report.pdf": "uploads", "/uploads/logo.svg": "uploads", "/assets/hero.webp": "static-images",
           "/img/team.jpg": "static-images", "/assets/app.9f1c.js": "static", "/assets/icon.svg": "static",
           "/static/x": "static", "/favicon.ico": "static", "/fonts/inter.woff2": "static", "/": "dynamic",
           "/tenants/acme/dashboard": "dynamic", "/apiary": "dynamic", "/api": "dynamic", "/photo.jpg.html": "dynamic"}
WITHOUT_IMAGES = {"/uploads/cat.png": "uploads", "/assets/hero.webp": "static", "/img/team.jpg": "static",
                  "/uploads/report.pdf": "uploads", "/api/avatars/a.png": "api"}


@pytest.mark.parametrize("path,rule", SAMPLES.items())
def test_first_match_wins_with_api_before_everything(path, rule) -> None:
    assert cdn_rules.match(path, images=IMAGES).name == rule


@pytest.mark.parametrize("path,rule", WITHOUT_IMAGES.items())
def test_without_image_optimization_images_are_uploads_and_static_assets(path, rule) -> None:
    assert cdn_rules.match(path).name == rule


def test_the_table_has_the_specs_numbers() -> None:
    by_name = {r.name: r for r in cdn_rules.rules(YEAR, HOUR)}
    assert [r.name for r in cdn_rules.rules(YEAR, HOUR)] == ["api", "uploads", "static", "dynamic"]
    assert (by_name["api"].ttl, by_name["uploads"].ttl, by_name["static"].ttl, by_name["dynamic"].ttl) == \
           (0, YEAR, YEAR, HOUR)
    assert by_name["api"].paths == ("/api/*",) and by_name["dynamic"].paths == ("*",)
    assert {"*.js", "*.css", "*.woff2", "*.png", "*.jpg", "*.svg", "/assets/*"} <= set(by_name["static"].paths)
    table = cdn_rules.table(YEAR, HOUR)
    assert (table["compression"], table["httpVersions"], table["minimumTls"]) == (["br", "gzip"], ["http2", "http3"],
                                                                                 "1.2")
    assert table["images"] == {"enabled": False}


def test_the_image_class_uploads_and_static_image_types_cached_like_static_assets() -> None:
    rules = cdn_rules.rules(YEAR, HOUR, IMAGES)
    assert [r.name for r in rules] == ["api", "upload-images", "uploads", "static-images", "static", "dynamic"]
    by_name = {r.name: r for r in rules}
    assert by_name["upload-images"].paths == ("/uploads/*.jpg", "/uploads/*.jpeg", "/uploads/*.png", "/uploads/*.webp",
                                              "/uploads/*.avif")
    assert by_name["static-images"].paths == ("*.jpg", "*.jpeg", "*.png", "*.webp", "*.avif")
    assert [(r.kind, r.ttl, r.origin, r.all_methods) for r in (by_name["upload-images"], by_name["static-images"])] == \
           [("images", YEAR, "uploads", False), ("images", YEAR, "app", False)]
    # SVG and ICO stay static assets; raster images leave the static class.
    assert by_name["static"].paths == ("/assets/*", "/static/*", "*.js", "*.css", "*.woff2", "*.woff", "*.svg", "*.ico")
    assert cdn_rules.table(YEAR, HOUR, IMAGES)["images"] == {
        "enabled": True, "widths": [320, 640, 960, 1280, 1920], "formats": ["avif", "webp"], "quality": 80,
        "widthParameter": "w",
        "extensions": ["jpg", "jpeg", "png", "webp", "avif"], "variantsPerImage": 18}


@given(st.text(alphabet="/abcdefgijklmnopsuwx.0123456789-", max_size=30), st.booleans())
def test_exclusive_expressions_match_exactly_the_first_matching_rule(path, images) -> None:
    """What Cloudflare and Fastly get: each rule minus the earlier ones, so exactly one applies;
    and the image expression matches exactly the paths whose first rule is an image rule."""
    path = "/" + path
    settings = IMAGES if images else None
    rules = cdn_rules.rules(YEAR, HOUR, settings)
    matched = [rule.name for rule, earlier in cdn_rules.exclusive(rules)
               if eval(PYTHON.expression(rule, earlier), {"path": path})]  # noqa: S307 - our own rendering
    first = cdn_rules.match(path, images=settings)
    assert matched == [first.name]
    if images:
        assert eval(PYTHON.kind(rules, "images"), {"path": path}) == (first.kind == "images")  # noqa: S307


# -- CloudFront (the default) ----------------------------------------------------------------
def _rule_of(policy) -> str:
    return policy.name.split("-cdn-cache-", 1)[1]


def _policy_ttls(plan: StackPlan) -> dict[str, tuple]:
    out = {}
    for policy in plan.find(CACHE_POLICY):
        params = policy.input("parametersInCacheKeyAndForwardedToOrigin")
        assert params["enableAcceptEncodingBrotli"] is True and params["enableAcceptEncodingGzip"] is True
        out[_rule_of(policy)] = (policy.input("minTtl"), policy.input("defaultTtl"), policy.input("maxTtl"))
    return out


def test_cloudfront_cache_policies_carry_the_rules_ttls(plans) -> None:
    assert _policy_ttls(plans["us-east"]) == {"api": (0, 0, 1), "upload-images": (0, YEAR, YEAR),
                                             "uploads": (0, YEAR, YEAR), "static-images": (0, YEAR, YEAR),
                                             "static": (0, YEAR, YEAR), "dynamic": (0, HOUR, HOUR)}


def test_cloudfront_image_variants_are_keyed_on_w_and_f_only(plans) -> None:
    keys = {_rule_of(p): p.input("parametersInCacheKeyAndForwardedToOrigin")["queryStringsConfig"]
            for p in plans["us-east"].find(CACHE_POLICY)}
    bounded = {"queryStringBehavior": "whitelist", "queryStrings": {"items": ["f", "w"]}}
    assert keys == {"api": {"queryStringBehavior": "all"}, "upload-images": bounded,
                    "uploads": {"queryStringBehavior": "none"}, "static-images": bounded,
                    "static": {"queryStringBehavior": "all"}, "dynamic": {"queryStringBehavior": "all"}}


def test_cloudfront_behaviours_follow_the_rules_in_order(plans) -> None:
    plan = plans["us-east"]
    dist = plan.single(DISTRIBUTION)
    policies = {p.id: _rule_of(p) for p in plan.find(CACHE_POLICY)}
    ordered = dist.input("orderedCacheBehaviors")
    patterns = [(b["pathPattern"], policies[b["cachePolicyId"]], b["targetOriginId"]) for b in ordered]
    expected = [(p, r.name, "app" if r.all_methods else "uploads" if r.origin == "uploads" else "app-failover")
                for r in cdn_rules.rules(YEAR, HOUR, IMAGES)[:-1] for p in r.paths]
    assert patterns == expected and patterns[0] == ("/api/*", "api", "app")
    assert len(ordered) == 20  # CloudFront's default quota is 25 cache behaviours per distribution
    default = dist.input("defaultCacheBehavior")
    assert policies[default["cachePolicyId"]] == "dynamic" and default["targetOriginId"] == "app-failover"
    geo = plan.one("aws:cloudfront/function:Function", "hse-us-east-cdn-geo-header")
    viewer = plan.one("aws:cloudfront/function:Function", "hse-us-east-cdn-image-request")
    transform = plan.one(LAMBDA, "hse-us-east-cdn-image-transform")
    for behaviour in [*ordered, default]:
        assert behaviour["viewerProtocolPolicy"] == "redirect-to-https" and behaviour["compress"] is True
        image = policies[behaviour["cachePolicyId"]].endswith("images")
        app = behaviour["targetOriginId"] != "uploads"
        # Writes only reach the API; origin groups take reads only.
        assert behaviour["allowedMethods"] == (
            ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"] if behaviour.get("pathPattern") == "/api/*"
            else ["GET", "HEAD", "OPTIONS"])
        associations = behaviour.get("functionAssociations") or []
        function = viewer if image else geo if app else None
        assert associations == ([{"eventType": "viewer-request", "functionArn": function.output("arn")}]
                                if function else [])
        assert behaviour.get("lambdaFunctionAssociations") == (
            [{"eventType": "origin-request", "includeBody": False, "lambdaArn": transform.output("qualifiedArn")}]
            if image else None)
    assert transform.output("qualifiedArn").endswith(":1")  # Lambda@Edge takes a numbered version only


def test_the_image_function_runs_at_the_edge_with_its_own_least_privilege_role(plans) -> None:
    plan = plans["us-east"]
    function = plan.one(LAMBDA, "hse-us-east-cdn-image-transform")
    assert (function.input("runtime"), function.input("architectures"), function.input("handler"),
            function.input("publish"), function.input("memorySize"), function.input("timeout")) == \
           ("python3.12", ["x86_64"], "functions.image_transform.handler.lambda_handler", True, 1536, 30)
    assert plan.get(function.provider_urn).input("region") == "us-east-1"  # Lambda@Edge lives in us-east-1
    assert "environment" not in function.inputs  # Lambda@Edge has no environment variables
    role = plan.one("aws:iam/role:Role", "hse-us-east-cdn-image-transform")
    assert function.input("role") == role.output("arn")
    assert json.loads(role.input("assumeRolePolicy"))["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
        "Action": "sts:AssumeRole"}]
    uploads = plan.one(BUCKET, "hse-us-east-cdn-uploads")
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "hse-us-east-cdn-image-transform")
    name = function.output("name")
    assert policy.input("role") == role.output("name")
    assert json.loads(policy.input("policy"))["Statement"] == [
        {"Sid": "ReadOriginalUploads", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"{uploads.output('arn')}/uploads/*"},
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": "logs:CreateLogGroup",
         "Resource": f"arn:aws:logs:*:{OFFLINE_ACCOUNT_ID}:log-group:/aws/lambda/us-east-1.{name}"},
        {"Sid": "OwnLogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:*:{OFFLINE_ACCOUNT_ID}:log-group:/aws/lambda/us-east-1.{name}:*"}]
    assert not [a for a in plan.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.input("role") == role.output("name")]
    # The variants exist before the distribution sends requests to them.
    assert policy.urn in plan.single(DISTRIBUTION).dependencies
    # The bucket still admits CloudFront alone: the function reads through its role, not the bucket policy.
    statements = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "hse-us-east-cdn-uploads-policy")
                            .input("policy"))["Statement"]
    assert [s.get("Principal") for s in statements if s["Effect"] == "Allow"] == [
        {"Service": "cloudfront.amazonaws.com"}]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_image_package_carries_the_handler_its_settings_and_pillow(plans) -> None:
    code = plans["us-east"].one(LAMBDA, "hse-us-east-cdn-image-transform").input("code")["archive"]
    assert set(code) == {"functions/__init__.py", "functions/image_transform/__init__.py",
                         "functions/image_transform/handler.py", "functions/image_transform/settings.json",
                         "infra/__init__.py", "infra/domain/__init__.py", "infra/domain/image_variants.py",
                         "PIL", "pillow.libs"}
    assert code["functions/image_transform/settings.json"] == {"asset": "string",
                                                               "hash": _sha(IMAGES.settings_file(YEAR))}
    assert code["PIL"] == {"archive": "file", "name": "PIL"}
    assert code["functions/image_transform/handler.py"]["hash"] == hashlib.sha256(
        (cf.ROOT / iv.HANDLER).read_bytes()).hexdigest()


def test_the_viewer_function_holds_the_configured_widths_and_formats(plans) -> None:
    viewer = plans["us-east"].one("aws:cloudfront/function:Function", "hse-us-east-cdn-image-request")
    assert (viewer.input("runtime"), viewer.input("publish")) == ("cloudfront-js-2.0", True)
    assert viewer.input("code") == cf.image_request_function(IMAGES)
    assert 'var WIDTHS = {"320": true, "640": true, "960": true, "1280": true, "1920": true};' in viewer.input("code")


# The viewer function in node, against the Python definition it implements.
VIEWER_CASES = [
    ({"w": {"value": "640"}, "utm": {"value": "x"}}, "image/avif,image/webp,*/*", {"w": "640", "f": "avif"}),
    ({"w": {"value": "640"}}, "image/webp,*/*;q=0.8", {"w": "640", "f": "webp"}),
    ({"f": {"value": "avif"}}, "image/png,*/*", {}),
    ({}, "image/avif;q=0, image/webp", {"f": "webp"}),
    ({}, "", {}),
    ({"w": {"value": "641"}}, "image/webp", 400),
    ({"w": {"value": "0640"}}, "image/webp", 400),
    ({"w": {"value": ""}}, "image/webp", 400),
    ({"w": {"value": "320", "multiValue": [{"value": "320"}, {"value": "640"}]}}, "image/webp", 400),
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront Function's JavaScript")
def test_the_viewer_function_does_what_the_python_definition_says() -> None:
    harness = cf.image_request_function(IMAGES) + """
var cases = JSON.parse(process.argv[1]);
var out = cases.map(function (c) {
    var headers = c[1] ? {accept: {value: c[1]}} : {};
    var result = handler({request: {uri: '/uploads/a.jpg', querystring: c[0], headers: headers}});
    if (result.statusCode) { return result.statusCode; }
    var q = {};
    Object.keys(result.querystring).forEach(function (k) { q[k] = result.querystring[k].value; });
    return q;
});
console.log(JSON.stringify(out));
"""
    cases = [[query, accept] for query, accept, _ in VIEWER_CASES]
    answer = subprocess.run(["node", "-e", harness, json.dumps(cases)], capture_output=True, text=True, check=True)
    assert json.loads(answer.stdout) == [expected for _, _, expected in VIEWER_CASES]
    for query, accept, expected in VIEWER_CASES:  # the same answers from the Python definition
        flat = {k: [m["value"] for m in v["multiValue"]] if "multiValue" in v else [v["value"]] for k, v in query.items()}
        try:
            assert iv.normalise(flat, accept, IMAGES) == expected
        except iv.VariantError:
            assert expected == 400


def test_cloudfront_protocols_tls_and_origins(plans) -> None:
    plan = plans["us-east"]
    dist = plan.single(DISTRIBUTION)
    assert dist.input("httpVersion") == "http2and3" and dist.input("isIpv6Enabled") is True
    assert dist.input("aliases") == [f"www.{DOMAIN}"] and dist.input("priceClass") == "PriceClass_All"
    validated = plan.one("aws:acm/certificateValidation:CertificateValidation", "hse-us-east-cdn-cert-validated")
    assert dist.input("viewerCertificate") == {"acmCertificateArn": validated.output("certificateArn"),
                                               "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}
    origins = {o["originId"]: o for o in dist.input("origins")}
    assert origins["app"]["domainName"] == f"app.{DOMAIN}" and origins["nearest"]["domainName"] == f"nearest.{DOMAIN}"
    for name in ("app", "nearest"):
        config = origins[name]["customOriginConfig"]
        assert (config["originProtocolPolicy"], config["originSslProtocols"]) == ("https-only", ["TLSv1.2"])
    uploads = plan.one(BUCKET, "hse-us-east-cdn-uploads")
    oac = plan.single("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert origins["uploads"] == {"originId": "uploads", "domainName": uploads.output("bucketRegionalDomainName"),
                                  "originAccessControlId": oac.id}
    assert (oac.input("signingBehavior"), oac.input("signingProtocol")) == ("always", "sigv4")
    (group,) = dist.input("originGroups")
    assert [m["originId"] for m in group["members"]] == ["app", "nearest"]
    assert group["failoverCriteria"]["statusCodes"] == [500, 502, 503, 504]
    request = plan.single("aws:cloudfront/originRequestPolicy:OriginRequestPolicy")
    assert request.input("headersConfig") == {"headerBehavior": "allViewerAndWhitelistCloudFront",
                                              "headers": {"items": ["CloudFront-Viewer-Country"]}}
    hsts = plan.single("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy") \
        .input("securityHeadersConfig")["strictTransportSecurity"]
    assert (hsts["accessControlMaxAgeSec"], hsts["includeSubdomains"]) == (31_536_000, True)
    code = plan.one("aws:cloudfront/function:Function", "hse-us-east-cdn-geo-header")
    assert code.input("runtime") == "cloudfront-js-2.0" and "request.headers['x-geo-country']" in code.input("code")


def test_cloudfront_global_pieces_live_in_us_east_1_with_the_waf(plans) -> None:
    plan = plans["us-east"]
    dist = plan.single(DISTRIBUTION)
    waf = plan.single("aws:wafv2/webAcl:WebAcl")
    assert waf.input("scope") == "CLOUDFRONT" and dist.input("webAclId") == waf.output("arn")
    rules = {r["name"]: r for r in waf.input("rules")}
    assert set(rules) == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "rate-limit-per-ip"}
    # Large API bodies are counted, not blocked.
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert common["ruleActionOverrides"] == [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}]
    assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["limit"] == 2000
    for resource in (waf, plan.one("aws:acm/certificate:Certificate", "hse-us-east-cdn-cert"), dist):
        assert plan.get(resource.provider_urn).input("region") == "us-east-1"


def test_buckets_are_private_encrypted_and_uploads_readable_only_by_the_distribution(plans) -> None:
    plan = plans["us-east"]
    dist = plan.single(DISTRIBUTION)
    for block in plan.find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        assert all(block.input(k) is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                     "restrictPublicBuckets"))
    encryption = [e for e in plan.find(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if "hse:edge:CdnDistribution" in e.urn]
    assert len(encryption) == 2
    assert all(e.input("rules")[0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256" for e in encryption)
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "hse-us-east-cdn-uploads-policy").input("policy"))
    deny, allow = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": dist.output("arn")}}
    logs = plan.one(BUCKET, "hse-us-east-cdn-logs")
    assert dist.input("loggingConfig")["bucket"] == logs.output("bucketDomainName")
    ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "hse-us-east-cdn-logs-ownership")
    assert ownership.input("rule") == {"objectOwnership": "BucketOwnerPreferred"}
    # Log delivery sets an ACL: the distribution waits for the bucket to accept ACLs.
    assert ownership.urn in dist.dependencies, "the distribution waits for the logs bucket's ownership controls"
    expiry = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "hse-us-east-cdn-logs-lifecycle")
    rules = {r["id"]: r for r in expiry.input("rules")}
    # Logs kept 90 days, the archive threshold also 90: no archive step.
    assert list(rules) == ["expire", "abort-incomplete-uploads"]
    assert (rules["expire"]["expiration"], rules["expire"]["noncurrentVersionExpiration"]) == \
           ({"days": 90}, {"noncurrentDays": 90})
    uploads_policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "hse-us-east-cdn-uploads-policy")
    assert plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                    "hse-us-east-cdn-uploads-public-access").urn in uploads_policy.dependencies


def test_the_cdn_domain_is_published_by_every_stack(plans) -> None:
    dist = plans["us-east"].single(DISTRIBUTION)
    for plan in plans.values():
        assert (plan.outputs["cdnProvider"], plan.outputs["cdnDomain"], plan.outputs["cdnDistributionId"]) == \
               ("cloudfront", f"www.{DOMAIN}", dist.id)
        assert plan.outputs["cdnRules"] == cdn_rules.table(YEAR, HOUR, IMAGES)
    for record_type in ("A", "AAAA"):
        record = plans["us-east"].one("aws:route53/record:Record", f"hse-us-east-cdn-www-{record_type.lower()}")
        assert record.input("aliases") == [{"name": dist.output("domainName"), "zoneId": "Z2FDTNDATAQYW2",
                                            "evaluateTargetHealth": False}]


def test_non_default_cdn_values_arrive(staging) -> None:
    plan = staging["us-east"]
    week = (0, 604800, 604800)
    assert _policy_ttls(plan) == {"api": (0, 0, 1), "upload-images": week, "uploads": week, "static-images": week,
                                  "static": week, "dynamic": (0, 600, 600)}
    dist = plan.single(DISTRIBUTION)
    assert dist.input("priceClass") == "PriceClass_100" and dist.input("webAclId") is None
    assert plan.find("aws:wafv2/webAcl:WebAcl") == []
    expiry = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "hse-us-east-cdn-logs-lifecycle")
    assert [r["expiration"] for r in expiry.input("rules") if "expiration" in r] == [{"days": 30}]
    assert plan.outputs["cdnRules"]["rules"][-1] == {"name": "dynamic", "kind": "dynamic", "paths": ["*"],
                                                     "ttlSeconds": 600, "origin": "app", "methods": "read"}


def test_non_default_image_settings_arrive(staging) -> None:
    plan = staging["us-east"]
    settings = iv.ImageSettings((480, 1080, 2048), ("webp",), 70)
    assert plan.outputs["cdnRules"]["images"] == settings.to_json()
    viewer = plan.one("aws:cloudfront/function:Function", "hse-us-east-cdn-image-request")
    assert viewer.input("code") == cf.image_request_function(settings)
    assert 'var FORMATS = ["webp"];' in viewer.input("code")
    function = plan.one(LAMBDA, "hse-us-east-cdn-image-transform")
    assert function.input("code")["archive"]["functions/image_transform/settings.json"]["hash"] == \
        _sha(settings.settings_file(604800))
    assert function.input("description").endswith("widths 480, 1080, 2048; webp; quality 70")


def test_image_optimization_off_declares_no_image_resources(cloudfront_plain, fastly_plain) -> None:
    plan = cloudfront_plain
    assert plan.outputs["cdnRules"] == cdn_rules.table(YEAR, HOUR)
    assert not [r for r in plan.resources if "image" in r.name or "CdnDistribution$aws:lambda" in r.urn]
    assert [f.name for f in plan.find("aws:cloudfront/function:Function")] == ["hse-us-east-cdn-geo-header"]
    assert set(_policy_ttls(plan)) == {"api", "uploads", "static", "dynamic"}
    patterns = [b["pathPattern"] for b in plan.single(DISTRIBUTION).input("orderedCacheBehaviors")]
    assert "*.png" in patterns and not [p for p in patterns if p.startswith("/uploads/*.")]
    service = fastly_plain.single("fastly:index/serviceVcl:ServiceVcl")
    assert service.input("productEnablement") is None and service.input("imageOptimizerDefaultSettings") is None
    assert [s["name"] for s in service.input("snippets")] == ["accept-brotli", "brotli"]
    assert "shield" not in service.input("backends")[0]
    assert fastly_plain.outputs["cdnRules"]["images"] == {"enabled": False}


# -- Cloudflare, Fastly, custom ----------------------------------------------------------------
def _no_cloudfront(plan: StackPlan) -> None:
    assert not [r for r in plan.resources if r.type.startswith(("aws:cloudfront", "aws:wafv2"))
                or "hse:edge:CdnDistribution$aws:acm" in r.urn]


def test_cloudflare_zone_settings_rules_and_record(cloudflare) -> None:
    plan = cloudflare
    _no_cloudfront(plan)
    settings = {s.input("settingId"): s.input("value") for s in plan.find("cloudflare:index/zoneSetting:ZoneSetting")}
    # Image transformations on this zone's images only ("open" would resize any origin's).
    assert settings == {"http3": "on", "min_tls_version": "1.2", "always_use_https": "on", "ssl": "strict",
                        "ip_geolocation": "on", "image_resizing": "on"}
    ruleset = plan.one("cloudflare:index/ruleset:Ruleset", "hse-us-east-cdn-cache-rules")
    assert (ruleset.input("phase"), ruleset.input("kind"), ruleset.input("zoneId")) == \
           ("http_request_cache_settings", "zone", ZONE_ID)
    api, upload_images, uploads, static_images, static, dynamic = ruleset.input("rules")
    # The raw path: what the viewer asked for, before an image variant is rewritten.
    assert api["expression"] == 'starts_with(raw.http.request.uri.path, "/api/")'
    assert api["actionParameters"] == {"cache": False}
    assert uploads["actionParameters"]["edgeTtl"] == {"mode": "override_origin", "default": YEAR}
    assert upload_images["actionParameters"]["edgeTtl"] == static_images["actionParameters"]["edgeTtl"] == \
           {"mode": "override_origin", "default": YEAR}
    assert upload_images["expression"].startswith('((starts_with(raw.http.request.uri.path, "/uploads/") and '
                                                  'raw.http.request.uri.path.extension eq "jpg")')
    assert static["actionParameters"]["edgeTtl"]["default"] == YEAR
    assert 'raw.http.request.uri.path.extension eq "js"' in static["expression"]
    assert 'raw.http.request.uri.path.extension eq "png"' not in static["expression"].split(" and not ")[0]
    assert dynamic["actionParameters"]["edgeTtl"]["default"] == HOUR and dynamic["expression"].startswith("(true)")
    record = plan.single("cloudflare:index/dnsRecord:DnsRecord")
    assert (record.input("name"), record.input("type"), record.input("content"), record.input("proxied"),
            record.input("ttl")) == ("www.(known after deploy)", "CNAME", f"app.{DOMAIN}", True, 1)
    providers = {r.provider_urn for r in plan.resources if r.type.startswith("cloudflare:")}
    assert len(providers) == 1 and "pulumi:providers:cloudflare" in providers.pop()
    assert plan.outputs["cdnDomain"] == "www.(known after deploy)" and plan.outputs["cdnDistributionId"] == ruleset.id


def test_cloudflare_transforms_the_image_paths_only_with_bounded_variants(cloudflare) -> None:
    rewrites = cloudflare.one("cloudflare:index/ruleset:Ruleset", "hse-us-east-cdn-image-rewrites")
    assert (rewrites.input("phase"), rewrites.input("kind"), rewrites.input("zoneId")) == \
           ("http_request_transform", "zone", ZONE_ID)
    rules = rewrites.input("rules")
    paths = cdn_rules.Syntax(prefix='starts_with(raw.http.request.uri.path, "{value}")',
                             suffix='raw.http.request.uri.path.extension eq "{value}"', any_of=" or ",
                             and_not="({own}) and not ({other})", always="true").kind(
        cdn_rules.rules(YEAR, HOUR, IMAGES), "images")
    avif = 'any(http.request.headers["accept"][*] contains "image/avif")'
    webp = 'any(http.request.headers["accept"][*] contains "image/webp")'
    width = 'raw.http.request.uri.args["w"][0]'
    not_transformation = 'not any(http.request.headers["via"][*] contains "image-resizing")'
    conditions = [f"{width} in {{\"320\" \"640\" \"960\" \"1280\" \"1920\"}}",
                  'not any(raw.http.request.uri.args.names[*] == "w")']
    formats = [(avif, ",format=avif"), (f"{webp} and not {avif}", ",format=webp"), (f"not {avif} and not {webp}", "")]
    expected = []
    for condition, size in zip(conditions, (f'"/cdn-cgi/image/width=", {width}, "', '"/cdn-cgi/image/width=1920')):
        for accept, fmt in formats:
            expected.append((f"({paths}) and {not_transformation} and {condition} and {accept}",
                             f'concat({size},quality=80{fmt},fit=scale-down,metadata=none", raw.http.request.uri.path)'))
    assert [(r["expression"], r["actionParameters"]["uri"]["path"]["expression"]) for r in rules] == expected
    assert all(r["action"] == "rewrite" and r["actionParameters"]["uri"]["query"] == {"value": ""} for r in rules)
    assert all(len(r["expression"]) < 4096 for r in rules)  # Cloudflare's limit on an expression
    guard = cloudflare.one("cloudflare:index/ruleset:Ruleset", "hse-us-east-cdn-image-guard")
    assert guard.input("phase") == "http_request_firewall_custom"
    bad_width, direct = guard.input("rules")
    assert bad_width["expression"] == (
        f'({paths}) and any(raw.http.request.uri.args.names[*] == "w") and '
        f'(len(raw.http.request.uri.args["w"]) > 1 or not {width} in {{"320" "640" "960" "1280" "1920"}})')
    assert direct["expression"] == 'starts_with(raw.http.request.uri.path, "/cdn-cgi/image/")'
    for rule in (bad_width, direct):
        assert rule["action"] == "block" and rule["actionParameters"]["response"]["statusCode"] == 400


def test_fastly_marks_the_image_paths_for_its_image_optimizer(fastly) -> None:
    service = fastly.single("fastly:index/serviceVcl:ServiceVcl")
    assert service.input("productEnablement") == {"imageOptimizer": True}
    assert service.input("imageOptimizerDefaultSettings") == {
        "name": "hse", "jpegQuality": 80, "webpQuality": 80, "webp": False, "upscale": False,
        "resizeFilter": "lanczos3", "allowVideo": False, "jpegType": "auto"}
    # The Image Optimizer needs every backend shielded: the POP by the primary's region.
    assert [b["shield"] for b in service.input("backends")] == ["iad-va-us"]
    snippet = next(s for s in service.input("snippets") if s["name"] == "image-optimizer")
    assert snippet["type"] == "recv" and snippet["priority"] == 50
    content = snippet["content"]
    assert content == fastly_cdn.image_snippet(cdn_rules.rules(YEAR, HOUR, IMAGES), IMAGES)
    paths = fastly_cdn.SYNTAX.kind(cdn_rules.rules(YEAR, HOUR, IMAGES), "images")
    assert paths.startswith('(((req.url.path ~ "^/uploads/" && req.url.ext == "jpg")')
    assert paths.endswith('&& !(req.url.path ~ "^/api/" || req.url.path ~ "^/uploads/"))')
    # Normalised at the edge only (the shield sees the normalised URL), with the bounded widths.
    assert content.startswith(f"if (fastly.ff.visits_this_service == 0 && ({paths})) {{\n")
    assert 'if (req.http.x-hse-image-width !~ "^(?:320|640|960|1280|1920)$") {\n' \
           '      error 400 "width not offered; valid: 320, 640, 960, 1280, 1920";' in content
    assert 'set req.http.x-hse-image-width = "1920";' in content
    assert ('if (req.http.Accept ~ "(?i)image/avif") {\n    set req.url = querystring.set(req.url, "format", "avif");\n'
            '  } elsif (req.http.Accept ~ "(?i)image/webp") {') in content
    assert 'set req.url = querystring.remove(req.url);' in content
    # Marked for the optimizer at the edge and at the shield, on the image paths only.
    assert content.endswith(f'\nif ({paths}) {{\n  set req.http.x-fastly-imageopto-api = "fastly";\n}}\n')


def test_fastly_service_carries_the_same_rules(fastly) -> None:
    plan = fastly
    _no_cloudfront(plan)
    service = plan.single("fastly:index/serviceVcl:ServiceVcl")
    assert service.input("http3") is True and service.input("defaultTtl") == HOUR
    assert service.input("domains") == [{"name": f"www.{DOMAIN}"}]
    (backend,) = service.input("backends")
    assert (backend["address"], backend["port"], backend["useSsl"], backend["minTlsVersion"],
            backend["sslCheckCert"]) == (f"app.{DOMAIN}", 443, True, "1.2", True)
    conditions = {c["name"]: c["statement"] for c in service.input("conditions")}
    assert conditions["hse-api"] == 'req.url.path ~ "^/api/"'
    settings = {s["name"]: s for s in service.input("cacheSettings")}
    assert settings["hse-api"]["action"] == "pass"
    assert (settings["hse-static"]["ttl"], settings["hse-uploads"]["ttl"]) == (YEAR, YEAR)
    assert service.input("requestSettings") == [{"name": "https-only", "forceSsl": True},
                                                {"name": "api-pass", "action": "pass",
                                                 "requestCondition": "hse-api-request"}]
    assert conditions["hse-api-request"] == 'req.url.path ~ "^/api/"'
    recv, fetch, _ = service.input("snippets")
    assert recv["type"] == "recv" and "Fastly-Orig-Accept-Encoding" in recv["content"]
    assert fetch["type"] == "fetch" and "set beresp.brotli = true;" in fetch["content"]
    assert service.input("gzips")[0]["extensions"] == ["js", "css", "html", "json", "svg"]
    headers = {h["name"]: h for h in service.input("headers")}
    assert headers["hsts"]["source"] == '"max-age=31536000; includeSubDomains"'
    assert headers["geo-country"]["destination"] == "http.x-geo-country"
    www = plan.one("aws:route53/record:Record", "hse-us-east-cdn-www")
    assert www.input("records") == ["t.sni.global.fastly.net"] and www.input("name") == f"www.{DOMAIN}"
    validated = plan.single("fastly:index/tlsSubscriptionValidation:TlsSubscriptionValidation")
    assert plan.one("aws:route53/record:Record", "hse-us-east-cdn-tls-validation").urn in validated.dependencies


def test_custom_declares_nothing_and_exports_the_rules(custom) -> None:
    _no_cloudfront(custom)
    assert not [r for r in custom.resources if r.type.startswith(("cloudflare:", "fastly:"))
                or "hse:edge:CdnDistribution$" in r.urn]
    assert custom.outputs["cdnDomain"] == "" and custom.outputs["cdnProvider"] == "custom"
    assert custom.outputs["cdnRules"] == cdn_rules.table(YEAR, HOUR, IMAGES)


# -- what image optimization costs ----------------------------------------------------------------------
def test_the_estimate_says_what_image_optimization_costs_and_off_costs_nothing(plans, cloudflare, fastly,
                                                                             cloudfront_plain, fastly_plain) -> None:
    assert estimate(plans["us-east"]).per_use == [(
        "CloudFront image variants (Lambda@Edge)",
        "$0.60 per million variants made + $0.00005001 per GB-second: about $75.61 per million at 1536 MB and 1 s "
        "each; variants are made once per edge cache, not per view")]
    assert estimate(cloudflare).per_use == [(
        "Cloudflare image transformations", "5,000 unique transformations a month free, then $0.50 per 1,000")]
    fastly_cost = estimate(fastly)
    assert fastly_cost.per_use == [("Fastly Image Optimizer", "priced by contract (an optional upgrade of the service; "
                                                              "AVIF output is a premium feature)")]
    assert fastly_cost.unpriced == {"Fastly Image Optimizer"}
    for plain in (cloudfront_plain, fastly_plain):
        assert estimate(plain).per_use == [] and estimate(plain).unpriced == set()
    # Per use only: the monthly figure is the same with image optimization on or off.
    assert estimate(plans["us-east"]).total == estimate(cloudfront_plain).total
