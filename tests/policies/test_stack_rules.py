"""Each stack rule: a happy-path stack passes, one resource changed fails with the exact message."""

from __future__ import annotations

import json

from infra.domain import image_variants as iv
from policies import types as t
from tests.policies import fixtures as f
from tests.policies.support import changed, resource as res, run_stack

ZONE_ID = "Z1"


def stack(**outputs):
    return res(t.STACK, "hse-test", outputs, region=None)  # the root stack has no provider


def network(default_sg=None, flow=True, attached=True):
    out = [res(t.VPC, "vpc", {"id": "vpc-1"}),
           res(t.DEFAULT_SECURITY_GROUP, "default-sg", default_sg or {"vpcId": "vpc-1", "ingress": [], "egress": []}),
           res(t.SECURITY_GROUP, "sg-db", {"id": "sg-1", "vpcId": "vpc-1"}),
           res(t.INGRESS_RULE, "sg-db-in", {"securityGroupId": "sg-1", "cidrIpv4": "10.0.0.0/16"})]
    if flow:
        out.append(res(t.FLOW_LOG, "flow", f.FLOW_LOG))
    if attached:
        out.append(res(t.RDS_CLUSTER, "db", {"vpcSecurityGroupIds": ["sg-1"]}))
    return out


def test_network_stack_rules():
    for policy in ("vpc-flow-logs", "security-group-attached", "default-security-group-closed"):
        assert run_stack(policy, network()) == []
    assert run_stack("vpc-flow-logs", network(flow=False)) == [("VPC must have flow logs enabled.", "vpc")]
    assert run_stack("security-group-attached", network(attached=False) + [stack(sg="sg-1")]) == [
        ("Security group must be attached to a resource.", "sg-db")]
    open_sg = {"vpcId": "vpc-1", "ingress": [{"cidrBlocks": ["0.0.0.0/0"]}], "egress": []}
    assert run_stack("default-security-group-closed", network(default_sg=open_sg)) == [
        ("VPC's default security group must be managed and restrict all traffic.", "vpc")]


def database(primary=True, instances=("us-east-1a", "us-east-1b"), selected=True, lag_alarm=True, **cluster):
    props = {**f.CLUSTER, "arn": "arn:aws:rds:us-east-1:1:cluster:hse-db", **cluster}
    out = [res(t.RDS_CLUSTER, "db", props)]
    if primary:
        out.append(res(t.RDS_GLOBAL_CLUSTER, "global", f.GLOBAL))
    out += [res(t.RDS_CLUSTER_INSTANCE, f"db-{i}", {**f.INSTANCE, "availabilityZone": z, "autoMinorVersionUpgrade": False})
            for i, z in enumerate(instances)]
    if selected:
        out.append(res(t.BACKUP_SELECTION, "selection", {"resources": [props["arn"]]}))
    if lag_alarm:
        out.append(res(t.METRIC_ALARM, "lag", f.LAG_ALARM))
    return out


def test_database_stack_rules():
    for policy in ("aurora-secondary-no-credentials", "rds-cluster-multi-az", "rds-minor-upgrades",
                   "rds-cluster-backup-plan", "replication-lag-alarm-present"):
        assert run_stack(policy, database()) == [], policy
        assert run_stack(policy, database(primary=False)) == [], policy
    assert run_stack("aurora-secondary-no-credentials", database(primary=False, masterUsername="admin")) == [
        ("Aurora global secondary cluster must not set masterUsername.", "db")]
    assert run_stack("rds-cluster-multi-az", database(instances=("us-east-1a",))) == [
        ("RDS cluster must have instances in at least 2 availability zones (found 1).", "db")]
    assert run_stack("rds-minor-upgrades", database(globalClusterIdentifier=None)) == [
        ("Database instance must take minor version upgrades automatically.", "db-0"),
        ("Database instance must take minor version upgrades automatically.", "db-1")]
    assert run_stack("rds-cluster-backup-plan", database(selected=False)) == [
        ("Database must be selected by an AWS Backup plan.", "db")]
    assert run_stack("replication-lag-alarm-present", database(primary=False, lag_alarm=False)) == [
        ("Replica database must have a replication-lag alarm.", "db")]


def pool(count=5, pool_size=100, percent=6):
    return [stack(appInstanceCount=count, dbPoolConnections=pool_size),
            res(t.RDS_CLUSTER_INSTANCE, "db-0", f.INSTANCE),
            res(t.RDS_PROXY_TARGET_GROUP, "pool", {"connectionPoolConfig": {"maxConnectionsPercent": percent}})]


def test_proxy_pool_sized_per_instance():
    assert run_stack("db-proxy-pool-size", pool()) == []
    assert run_stack("db-proxy-pool-size", pool(pool_size=60)) == [
        ("Database pool must be 20 connections per application instance, 100 for 5 instances (found 60).", "")]
    assert run_stack("db-proxy-pool-size", pool(percent=5)) == [
        ("RDS Proxy must allow at least 100 connections on db.r6g.large (5 % of 1722 is 86).", "pool")]


def cdn(**ttl):
    policies = {"api": {"defaultTtl": 0, "maxTtl": 1}, "static": {"defaultTtl": 31_536_000},
                "dynamic": {"defaultTtl": 3600}}
    policies.update(ttl)
    return [res(t.DISTRIBUTION, "cdn", f.DISTRIBUTION)] + [
        res(t.CACHE_POLICY, f"cache-{k}", {**f.CACHE_POLICY, **v, "id": k}) for k, v in policies.items()]


def test_cdn_ttl_classes():
    assert run_stack("cdn-cache-ttl-classes", cdn()) == []
    assert run_stack("cdn-cache-ttl-classes", cdn(api={"defaultTtl": 300, "maxTtl": 300})) == [
        ("CloudFront behavior /api/* must be cached for no cache (found 300).", "cdn")]
    assert run_stack("cdn-cache-ttl-classes", cdn(static={"defaultTtl": 86400})) == [
        ("CloudFront behavior /assets/* must be cached for 31536000 s (found 86400).", "cdn")]
    assert run_stack("cdn-cache-ttl-classes", cdn(dynamic={"defaultTtl": 7200})) == [
        ("CloudFront behavior * must be cached for 3600 s (found 7200).", "cdn")]
    # The API's maximum counts too: a zero default with a 5-minute maximum still caches.
    assert run_stack("cdn-cache-ttl-classes", cdn(api={"defaultTtl": 0, "maxTtl": 300})) == [
        ("CloudFront behavior /api/* must be cached for no cache (found 0).", "cdn")]


TABLE = {"continents": {"NA": "us-east", "SA": "us-east", "EU": "eu-west", "AF": "eu-west", "AS": "ap-se", "OC": "ap-se"},
         "default": "us-east", "regions": {"us-east": "us-east-1", "eu-west": "eu-west-1", "ap-se": "ap-southeast-1"}}


# -- image optimization: the program's CloudFront shapes, one image behaviour --------------------------------
DIST_ARN = "arn:aws:cloudfront::111122223333:distribution/E1"
UPLOADS_ARN = "arn:aws:s3:::hse-uploads-1"
ROLE_ARN = "arn:aws:iam::111122223333:role/hse-image-transform-1"
IMAGE_RULES = {"rules": [{"name": "api", "kind": "api", "paths": ["/api/*"]},
                         {"name": "upload-images", "kind": "images", "paths": ["/uploads/*.jpg"]},
                         {"name": "static-images", "kind": "images", "paths": ["*.png"]}],
               "images": {"enabled": True, "widths": [320, 640], "formats": ["avif", "webp"], "quality": 80}}
VIEWER = [{"eventType": "viewer-request", "functionArn": "arn:aws:cloudfront::111122223333:function/img"}]
EDGE = [{"eventType": "origin-request", "lambdaArn": "arn:aws:lambda:us-east-1:111122223333:function:img-1:1"}]
BOUNDED = {"queryStringBehavior": "whitelist", "queryStrings": {"items": ["f", "w"]}}


def images(rules=IMAGE_RULES, query=BOUNDED, viewer=VIEWER, block=True, allow=None, trust=("lambda.amazonaws.com",
           "edgelambda.amazonaws.com"), policy=None, attached=False):
    behaviours = [{"pathPattern": p, "targetOriginId": origin, "cachePolicyId": "img", "functionAssociations": viewer,
                   "lambdaFunctionAssociations": EDGE} for p, origin in (("/uploads/*.jpg", "uploads"),
                                                                         ("*.png", "app-failover"))]
    dist = {**f.DISTRIBUTION, "arn": DIST_ARN, "orderedCacheBehaviors": [
        *f.DISTRIBUTION["orderedCacheBehaviors"], *behaviours]}
    statements = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [UPLOADS_ARN, f"{UPLOADS_ARN}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                  allow or {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject", "Resource": f"{UPLOADS_ARN}/*",
                            "Condition": {"StringEquals": {"AWS:SourceArn": DIST_ARN}}}]
    out = [stack(cdnRules=rules), res(t.DISTRIBUTION, "cdn", dist),
           res(t.CACHE_POLICY, "cache-images", {"id": "img", "parametersInCacheKeyAndForwardedToOrigin": {
               "queryStringsConfig": query}}),
           res(t.BUCKET, "uploads", {"bucket": "hse-uploads-1", "arn": UPLOADS_ARN,
                                     "bucketRegionalDomainName": "b.s3.us-east-1.amazonaws.com"}),
           res(t.BUCKET_PUBLIC_ACCESS_BLOCK, "uploads-public-access", {
               "bucket": "hse-uploads-1", "blockPublicAcls": True, "blockPublicPolicy": block, "ignorePublicAcls": True,
               "restrictPublicBuckets": True}),
           res(t.BUCKET_POLICY, "uploads-policy", {"bucket": "hse-uploads-1",
                                                   "policy": json.dumps({"Statement": statements})}),
           res(t.IAM_ROLE, "image-role", {"arn": ROLE_ARN, "name": "hse-image-transform-1", "assumeRolePolicy": json.dumps(
               {"Statement": [{"Effect": "Allow", "Principal": {"Service": list(trust)}, "Action": "sts:AssumeRole"}]})}),
           res(t.LAMBDA_FUNCTION, "image-function", {"handler": iv.HANDLER_NAME, "role": ROLE_ARN, "name": "img-1"}),
           res(t.ROLE_POLICY, "image-policy", {"role": "hse-image-transform-1", "policy": json.dumps(
               policy or iv.function_policy(UPLOADS_ARN, "111122223333", "img-1"))})]
    if attached:
        out.append(res(t.ROLE_POLICY_ATTACHMENT, "image-admin", {
            "role": "hse-image-transform-1", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}))
    return out


IMAGE_POLICIES = ("cdn-image-variants-bounded", "cdn-image-originals-private", "image-function-least-privilege")


def test_image_rules_pass_the_programs_shapes_and_stacks_without_images():
    for policy in IMAGE_POLICIES:
        assert run_stack(policy, images()) == [], policy
        assert run_stack(policy, cdn()) == [], policy  # no image rules, no function: nothing to hold
        assert run_stack(policy, [stack(cdnRules={"rules": [], "images": {"enabled": False}})]) == [], policy


def test_image_variants_are_bounded():
    too_many = {**IMAGE_RULES, "images": {**IMAGE_RULES["images"], "widths": list(range(100, 1200, 100))}}
    assert run_stack("cdn-image-variants-bounded", images(rules=too_many)) == [
        ("CDN image variants must be 1 to 10 widths of 16 to 4096 px in avif and/or webp (found widths "
         "[100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100], formats ['avif', 'webp']).", "")]
    huge = {**IMAGE_RULES, "images": {**IMAGE_RULES["images"], "widths": [320, 8192]}}
    assert len(run_stack("cdn-image-variants-bounded", images(rules=huge))) == 1
    assert run_stack("cdn-image-variants-bounded", images(rules={**IMAGE_RULES, "images": {
        **IMAGE_RULES["images"], "widths": [4096], "formats": ["webp"]}})) == []
    message = "CloudFront image behavior {} must key its cache on the variant (w, f) only, normalised by a " \
              "viewer-request function."
    for query in ({"queryStringBehavior": "all"},
                  {"queryStringBehavior": "whitelist", "queryStrings": {"items": ["f", "w", "width"]}}):
        assert run_stack("cdn-image-variants-bounded", images(query=query)) == [
            (message.format("/uploads/*.jpg"), "cdn"), (message.format("*.png"), "cdn")]
    assert run_stack("cdn-image-variants-bounded", images(viewer=[])) == [
        (message.format("/uploads/*.jpg"), "cdn"), (message.format("*.png"), "cdn")]


def test_image_originals_stay_private():
    assert run_stack("cdn-image-originals-private", images(block=False)) == [
        ("Image originals bucket uploads must block all public access.", "uploads")]
    for allow, principal in (({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}, '"*"'),
                             ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"}, '{"AWS": "*"}'),
                             ({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                               "Action": "s3:GetObject"}, '{"Service": "cloudfront.amazonaws.com"}')):  # any distribution
        assert run_stack("cdn-image-originals-private", images(allow=allow)) == [
            (f"Image originals bucket uploads must admit only this distribution (found an Allow for {principal}).",
             "uploads")]


def test_the_image_function_is_least_privilege():
    rule = "image-function-least-privilege"
    wide = iv.function_policy(f"{UPLOADS_ARN[:-1]}*", "111122223333", "img-1")
    assert run_stack(rule, images(policy=wide)) == [
        ("Image transformation function may read only the uploads' objects (found ['arn:aws:s3:::hse-uploads-*/uploads/*']).",
         "image-policy")]
    whole_bucket = iv.function_policy(UPLOADS_ARN, "111122223333", "img-1")
    whole_bucket["Statement"][0]["Resource"] = f"{UPLOADS_ARN}/*"
    assert run_stack(rule, images(policy=whole_bucket)) == [
        ("Image transformation function may read only the uploads' objects (found ['arn:aws:s3:::hse-uploads-1/*']).",
         "image-policy")]
    writes = iv.function_policy(UPLOADS_ARN, "111122223333", "img-1")
    writes["Statement"][0]["Action"] = ["s3:GetObject", "s3:PutObject"]
    assert run_stack(rule, images(policy=writes)) == [
        ("Image transformation function may only read uploads and write its logs (found ['s3:GetObject', "
         "'s3:PutObject']).", "image-policy")]
    other_logs = iv.function_policy(UPLOADS_ARN, "111122223333", "someone-else")
    assert [m for m, _ in run_stack(rule, images(policy=other_logs))] == [
        "Image transformation function may write only its own logs (found ['arn:aws:logs:*:111122223333:log-group:"
        "/aws/lambda/us-east-1.someone-else']).",
        "Image transformation function may write only its own logs (found ['arn:aws:logs:*:111122223333:log-group:"
        "/aws/lambda/us-east-1.someone-else:*'])."]
    assert run_stack(rule, images(attached=True)) == [
        ("Image transformation role must have no managed policies attached.", "image-role")]
    assert run_stack(rule, images(trust=("lambda.amazonaws.com", "ec2.amazonaws.com"))) == [
        ("Image transformation role may be assumed by Lambda only (found ['ec2.amazonaws.com', "
         "'lambda.amazonaws.com']).", "image-role")]


def dns(continents=("NA", "SA"), default=True, signed=True, health=True, table=TABLE, routes=()):
    out = [stack(stack="us-east", routingTable=table, tenantRoutes=list(routes)),
           res(t.ZONE, "zone", {"zoneId": ZONE_ID, "name": "example.com"})]
    if signed:
        out.append(res(t.DNSSEC, "zone-dnssec", {"hostedZoneId": ZONE_ID}))
    for c in continents:
        out.append(res(t.RECORD, f"geo-{c}", {**f.GEO_RECORD, "geolocationRoutingPolicies": [{"continent": c}],
                                              "healthCheckId": "hc-1" if health else None}))
    if default:
        out.append(res(t.RECORD, "geo-default", {**f.GEO_RECORD, "healthCheckId": None, "records": ["nearest.example.com"],
                                                 "geolocationRoutingPolicies": [{"country": "*"}]}))
        out.append(res(t.RECORD, "nearest", {**f.GEO_RECORD, "name": "nearest.example.com", "geolocationRoutingPolicies": None,
                                             "latencyRoutingPolicies": [{"region": "us-east-1"}]}))
    return out


def test_dns_stack_rules():
    for policy in ("route53-dnssec", "routed-record-health-check", "geolocation-coverage", "tenant-residency"):
        assert run_stack(policy, dns()) == [], policy
    assert run_stack("route53-dnssec", dns(signed=False)) == [("Public hosted zone must have DNSSEC signing enabled.", "zone")]
    assert run_stack("routed-record-health-check", dns(health=False)) == [
        ("Routed DNS record must have a health check.", "geo-NA"), ("Routed DNS record must have a health check.", "geo-SA")]
    assert run_stack("geolocation-coverage", dns(continents=("NA",))) == [
        ("Stack must have a geolocation record for continents SA.", "")]
    assert run_stack("geolocation-coverage", dns(default=False)) == [
        ("Stack owning the default route must have a default (*) geolocation record.", "")]
    partial = {**TABLE, "continents": {k: v for k, v in TABLE["continents"].items() if k != "OC"}}
    assert run_stack("geolocation-coverage", dns(table=partial)) == [
        ("Routing table must assign every continent (missing OC).", "")]
    inside = {"tenant": "acme", "stack": "eu-west", "zone": "EU", "fallback": ""}
    assert run_stack("tenant-residency", dns(routes=[inside])) == []
    assert run_stack("tenant-residency", dns(routes=[{**inside, "fallback": "us-east"}])) == [
        ("Tenant acme must stay in EU; us-east (us-east-1) is outside it.", "")]


def app(replicas=5, minimum=5, budget=True, count=5):
    out = [stack(appInstanceCount=count), res(t.DEPLOYMENT, "app", changed(f.DEPLOYMENT, spec={**f.DEPLOYMENT["spec"], "replicas": replicas})),
           res(t.HPA, "hpa", {**f.HPA, "spec": {**f.HPA["spec"], "minReplicas": minimum}})]
    return out + ([res(t.PDB, "pdb", f.PDB)] if budget else [])


def test_kubernetes_stack_rules():
    for policy in ("app-replicas-match-instance-count", "hpa-minimum-matches-instance-count", "app-disruption-budget"):
        assert run_stack(policy, app()) == [], policy
        # Vacuous only without any Deployment of the app (before the workloads tier).
        assert run_stack(policy, [stack(appInstanceCount=5)]) == [], policy
    assert run_stack("app-replicas-match-instance-count", app(replicas=3)) == [
        ("Deployment must run appInstanceCount = 5 replicas (found 3).", "app")]
    assert run_stack("hpa-minimum-matches-instance-count", app(minimum=2)) == [
        ("HorizontalPodAutoscaler minReplicas must be appInstanceCount = 5 (found 2).", "hpa")]
    assert run_stack("hpa-minimum-matches-instance-count", app()[:2]) == [
        ("Deployment hse-app-blue must have a HorizontalPodAutoscaler.", "")]
    assert run_stack("app-disruption-budget", app(budget=False)) == [
        ("Deployment hse-app-blue must have a PodDisruptionBudget selecting its pods.", "")]
    # A Deployment without the app's label is not the app's.
    other = [stack(appInstanceCount=5), res(t.DEPLOYMENT, "other", changed(f.DEPLOYMENT, metadata={"name": "x"}))]
    assert run_stack("app-replicas-match-instance-count", other) == []


def keys(rotation=True, secret_key="arn:aws:kms:us-east-1:1:key/mrk-1", region_key="arn:aws:kms:us-east-1:1:key/mrk-1"):
    out = [stack(awsRegion="us-east-1", kmsKeyArn=region_key),
           res(t.SECRET, "secret", {"id": "arn:aws:secretsmanager:us-east-1:1:secret:s", "kmsKeyId": secret_key})]
    if rotation:
        out.append(res(t.SECRET_ROTATION, "rotation", {"secretId": "arn:aws:secretsmanager:us-east-1:1:secret:s"}))
    return out


def test_key_and_secret_stack_rules():
    assert run_stack("secret-rotation", keys()) == []
    assert run_stack("secret-rotation", keys(rotation=False)) == [("Secrets Manager secret must rotate automatically.", "secret")]
    assert run_stack("regional-keys", keys()) == []
    assert run_stack("regional-keys", keys(secret_key="arn:aws:kms:eu-west-1:1:key/mrk-1")) == [
        ("Resource must be encrypted with a key of its own region us-east-1 (kmsKeyId is in eu-west-1).", "secret")]
    assert run_stack("regional-keys", keys(region_key="arn:aws:kms:eu-west-1:1:key/mrk-1")) == [
        ("Region us-east-1 must have its own KMS key.", "")]


def buckets(block=True, encrypted=True):
    out = [res(t.BUCKET, "logs", {"bucket": "logs-1"})]
    if block:
        out.append(res(t.BUCKET_PUBLIC_ACCESS_BLOCK, "logs-pab", {"bucket": "logs-1", **{k: True for k in (
            "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}}))
    if encrypted:
        out.append(res(t.BUCKET_ENCRYPTION, "logs-sse", {"bucket": "logs-1", "rules": [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}))
    return out


def test_bucket_stack_rules():
    assert run_stack("s3-public-access-blocked", buckets()) == []
    assert run_stack("s3-public-access-blocked", buckets(block=False)) == [
        ("S3 bucket must block every kind of public access.", "logs")]
    assert run_stack("s3-default-encryption", buckets()) == []
    assert run_stack("s3-default-encryption", buckets(encrypted=False)) == [
        ("S3 bucket must have default server-side encryption.", "logs")]


def test_modeled_rto_both_sides():
    assert run_stack("modeled-rto-within-objective", [stack(modeledRto={"totalSeconds": 300})]) == []
    assert run_stack("modeled-rto-within-objective", [stack(modeledRto={"totalSeconds": 301})]) == [
        ("Modeled RTO (totalSeconds) must be within 300 s (found 301).", "")]
    assert run_stack("modeled-rto-within-objective",
                     [stack(modeledRto={"totalSeconds": 180, "fastProfileTotalSeconds": 301})]) == [
        ("Modeled RTO (fastProfileTotalSeconds) must be within 300 s (found 301).", "")]
