"""The CDN in the plan, on each provider: the same rules table (exact TTLs, compression,
protocol versions, viewer and origin policies, path patterns) everywhere."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.domain import cdn_rules
from infra.engine import Engine, StackPlan
from tests.conftest import copy_project, edit_stack

DOMAIN = "hse-digital.example.com"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
BUCKET = "aws:s3/bucket:Bucket"
ZONE_ID = "0123456789abcdef0123456789abcdef"
YEAR, HOUR = 31_536_000, 3600


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


# -- the rules, defined once ---------------------------------------------------------------
PYTHON = cdn_rules.Syntax(prefix='path.startswith("{value}")', suffix='path.endswith(".{value}")',
                          any_of=" or ", and_not="({own}) and not ({other})", always="True")
SAMPLES = {"/api/health": "api", "/api/report.js": "api", "/uploads/cat.png": "uploads", "/assets/app.9f1c.js": "static",
           "/static/x": "static", "/favicon.ico": "static", "/fonts/inter.woff2": "static", "/": "dynamic",
           "/tenants/acme/dashboard": "dynamic", "/apiary": "dynamic", "/api": "dynamic"}


@pytest.mark.parametrize("path,rule", SAMPLES.items())
def test_first_match_wins_with_api_before_everything(path, rule) -> None:
    assert cdn_rules.match(path).name == rule


def test_the_table_has_the_specs_numbers() -> None:
    by_name = {r.name: r for r in cdn_rules.rules(YEAR, HOUR)}
    assert [r.name for r in cdn_rules.rules(YEAR, HOUR)] == ["api", "uploads", "static", "dynamic"]
    assert (by_name["api"].ttl, by_name["uploads"].ttl, by_name["static"].ttl, by_name["dynamic"].ttl) == \
           (0, YEAR, YEAR, HOUR)
    assert by_name["api"].paths == ("/api/*",) and by_name["dynamic"].paths == ("*",)
    assert {"*.js", "*.css", "*.woff2", "*.png", "/assets/*"} <= set(by_name["static"].paths)
    table = cdn_rules.table(YEAR, HOUR)
    assert (table["compression"], table["httpVersions"], table["minimumTls"]) == (["br", "gzip"], ["http2", "http3"],
                                                                                 "1.2")


@given(st.text(alphabet="/abcdefgijklmnopsuwx.0123456789-", max_size=30))
def test_exclusive_expressions_match_exactly_the_first_matching_rule(path) -> None:
    """What Cloudflare and Fastly get: each rule minus the earlier ones, so exactly one applies."""
    path = "/" + path
    matched = [rule.name for rule, earlier in cdn_rules.exclusive(cdn_rules.rules(YEAR, HOUR))
               if eval(PYTHON.expression(rule, earlier), {"path": path})]  # noqa: S307 - our own rendering
    assert matched == [cdn_rules.match(path).name]


# -- CloudFront (the default) ----------------------------------------------------------------
def _policy_ttls(plan: StackPlan) -> dict[str, tuple]:
    out = {}
    for policy in plan.find(CACHE_POLICY):
        params = policy.input("parametersInCacheKeyAndForwardedToOrigin")
        assert params["enableAcceptEncodingBrotli"] is True and params["enableAcceptEncodingGzip"] is True
        out[policy.name.rsplit("-", 1)[1]] = (policy.input("minTtl"), policy.input("defaultTtl"), policy.input("maxTtl"))
    return out


def test_cloudfront_cache_policies_carry_the_rules_ttls(plans) -> None:
    assert _policy_ttls(plans["us-east"]) == {"api": (0, 0, 1), "uploads": (0, YEAR, YEAR), "static": (0, YEAR, YEAR),
                                             "dynamic": (0, HOUR, HOUR)}


def test_cloudfront_behaviours_follow_the_rules_in_order(plans) -> None:
    plan = plans["us-east"]
    dist = plan.single(DISTRIBUTION)
    policies = {p.id: p.name.rsplit("-", 1)[1] for p in plan.find(CACHE_POLICY)}
    ordered = dist.input("orderedCacheBehaviors")
    patterns = [(b["pathPattern"], policies[b["cachePolicyId"]], b["targetOriginId"]) for b in ordered]
    expected = [(p, r.name, "app" if r.all_methods else "uploads" if r.origin == "uploads" else "app-failover")
                for r in cdn_rules.rules(YEAR, HOUR)[:-1] for p in r.paths]
    assert patterns == expected and patterns[0] == ("/api/*", "api", "app")
    default = dist.input("defaultCacheBehavior")
    assert policies[default["cachePolicyId"]] == "dynamic" and default["targetOriginId"] == "app-failover"
    function = plan.single("aws:cloudfront/function:Function")
    for behaviour in [*ordered, default]:
        assert behaviour["viewerProtocolPolicy"] == "redirect-to-https" and behaviour["compress"] is True
        app = behaviour["targetOriginId"] != "uploads"
        # Writes only reach the API; origin groups take reads only.
        assert behaviour["allowedMethods"] == (
            ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"] if behaviour.get("pathPattern") == "/api/*"
            else ["GET", "HEAD", "OPTIONS"])
        associations = behaviour.get("functionAssociations") or []
        assert associations == ([{"eventType": "viewer-request", "functionArn": function.output("arn")}] if app else [])


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
    code = plan.single("aws:cloudfront/function:Function")
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
        assert plan.outputs["cdnRules"] == cdn_rules.table(YEAR, HOUR)
    for record_type in ("A", "AAAA"):
        record = plans["us-east"].one("aws:route53/record:Record", f"hse-us-east-cdn-www-{record_type.lower()}")
        assert record.input("aliases") == [{"name": dist.output("domainName"), "zoneId": "Z2FDTNDATAQYW2",
                                            "evaluateTargetHealth": False}]


def test_non_default_cdn_values_arrive(staging) -> None:
    plan = staging["us-east"]
    assert _policy_ttls(plan) == {"api": (0, 0, 1), "uploads": (0, 604800, 604800), "static": (0, 604800, 604800),
                                  "dynamic": (0, 600, 600)}
    dist = plan.single(DISTRIBUTION)
    assert dist.input("priceClass") == "PriceClass_100" and dist.input("webAclId") is None
    assert plan.find("aws:wafv2/webAcl:WebAcl") == []
    expiry = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "hse-us-east-cdn-logs-lifecycle")
    assert [r["expiration"] for r in expiry.input("rules") if "expiration" in r] == [{"days": 30}]
    assert plan.outputs["cdnRules"]["rules"][3] == {"name": "dynamic", "kind": "dynamic", "paths": ["*"],
                                                    "ttlSeconds": 600, "origin": "app", "methods": "read"}


# -- Cloudflare, Fastly, custom ----------------------------------------------------------------
def _no_cloudfront(plan: StackPlan) -> None:
    assert not [r for r in plan.resources if r.type.startswith(("aws:cloudfront", "aws:wafv2"))
                or "hse:edge:CdnDistribution$aws:acm" in r.urn]


def test_cloudflare_zone_settings_rules_and_record(cloudflare) -> None:
    plan = cloudflare
    _no_cloudfront(plan)
    settings = {s.input("settingId"): s.input("value") for s in plan.find("cloudflare:index/zoneSetting:ZoneSetting")}
    assert settings == {"http3": "on", "min_tls_version": "1.2", "always_use_https": "on", "ssl": "strict",
                        "ip_geolocation": "on"}
    ruleset = plan.single("cloudflare:index/ruleset:Ruleset")
    assert (ruleset.input("phase"), ruleset.input("kind"), ruleset.input("zoneId")) == \
           ("http_request_cache_settings", "zone", ZONE_ID)
    api, uploads, static, dynamic = ruleset.input("rules")
    assert api["expression"] == 'starts_with(http.request.uri.path, "/api/")'
    assert api["actionParameters"] == {"cache": False}
    assert uploads["actionParameters"]["edgeTtl"] == {"mode": "override_origin", "default": YEAR}
    assert static["actionParameters"]["edgeTtl"]["default"] == YEAR
    assert 'http.request.uri.path.extension eq "js"' in static["expression"]
    assert static["expression"].endswith('and not (starts_with(http.request.uri.path, "/api/") or '
                                         'starts_with(http.request.uri.path, "/uploads/"))')
    assert dynamic["actionParameters"]["edgeTtl"]["default"] == HOUR and dynamic["expression"].startswith("(true)")
    record = plan.single("cloudflare:index/dnsRecord:DnsRecord")
    assert (record.input("name"), record.input("type"), record.input("content"), record.input("proxied"),
            record.input("ttl")) == ("www.example.com", "CNAME", f"app.{DOMAIN}", True, 1)
    providers = {r.provider_urn for r in plan.resources if r.type.startswith("cloudflare:")}
    assert len(providers) == 1 and "pulumi:providers:cloudflare" in providers.pop()
    assert plan.outputs["cdnDomain"] == "www.example.com" and plan.outputs["cdnDistributionId"] == ruleset.id


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
    recv, fetch = service.input("snippets")
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
    assert custom.outputs["cdnRules"] == cdn_rules.table(YEAR, HOUR)
