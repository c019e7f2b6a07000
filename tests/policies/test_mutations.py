"""The real program, changed (its config, or the plan's resources where config forbids the
bad value), and the rule that must fire."""

from __future__ import annotations

import copy
import json

import pytest

from infra.engine import Engine
from policies.runner import check_plan
from tests.conftest import edit_stack


def fired(plan, engine=None, stack_config=None):
    config = stack_config if stack_config is not None else (engine.project.stack_file(plan.stack).config if engine else {})
    return {(f.policy, f.resource, f.message) for f in check_plan(plan, stack_config=config).findings}


def test_short_backup_retention_in_config_fires(project_copy):
    edit_stack(project_copy, "us-east", dbBackupRetentionDays=7, dbAllowShortRetention=True)
    engine = Engine(project_copy)
    found = fired(engine.plan("us-east"), engine)
    assert ("rds-backup-retention", "hse-us-east-db-cluster",
            "Database backup retention must be at least 30 days (found 7).") in found
    assert ("backup-plan-retention", "hse-us-east-backups-plan",
            "Backup rule daily-full must keep backups and copies at least 30 days (found 7).") in found


def test_staging_config_fires_the_spec_bounds(staging):
    found = {(f.policy, f.message) for f in check_plan(staging["us-east"]).findings}
    assert ("health-check-timing", "Health check must run at least every 30 s and fail after at most 3 failures "
                                   "(found 10 s × 2).") not in found  # the fast profile is within the spec
    assert ("cloudfront-waf", "CloudFront distribution must be protected by a WAF web ACL.") in found
    assert ("log-group-retention", "CloudWatch log group must keep logs at least 365 days (found 90).") in found


def mutate(plan, type_, name, **props):
    """A copy of `plan` with one resource's inputs and outputs changed."""
    plan = copy.deepcopy(plan)
    target = next(r for r in plan.resources if r.type == type_ and r.name == name)
    for key, value in props.items():
        target.inputs[key] = value
        target.outputs[key] = value
    return plan


@pytest.mark.parametrize("stack,type_,name,props,policy,message", [
    ("us-east", "aws:rds/cluster:Cluster", "hse-us-east-db-cluster", {"storageEncrypted": False},
     "rds-cluster-storage-encrypted", "RDS cluster must have storage encryption enabled."),
    ("eu-west", "aws:route53/record:Record", "hse-eu-west-dns-geo-continent-eu", {"ttl": 300},
     "routed-record-ttl", "Routed DNS record TTL must be at most 60 s (found 300)."),
    ("ap-se", "aws:route53/healthCheck:HealthCheck", "hse-ap-se-dns-health", {"failureThreshold": 5},
     "health-check-timing", "Health check must run at least every 30 s and fail after at most 3 failures (found 30 s × 5)."),
    ("eu-west", "aws:rds/clusterInstance:ClusterInstance", "hse-eu-west-db-0", {"publiclyAccessible": True},
     "rds-not-public", "Database instance must not be publicly accessible."),
    ("us-east", "aws:kms/key:Key", "hse-us-east-keys-us-east-1", {"enableKeyRotation": False},
     "kms-key-rotation", "KMS key must have automatic rotation enabled."),
    ("us-east", "aws:elasticache/replicationGroup:ReplicationGroup", "hse-us-east-cache", {"replicasPerNodeGroup": 0},
     "redis-cluster-topology", "Redis cluster must have at least 3 shards with 1 replica each (found 3 × 0)."),
    ("eu-west", "aws:cloudwatch/metricAlarm:MetricAlarm", "hse-eu-west-db-alarms-replication-lag", {"threshold": 90000},
     "replication-lag-alarm-below-rpo", "Replication-lag alarm must fire below the RPO of 60 s (threshold 90 s)."),
    ("us-east", "aws:cloudfront/distribution:Distribution", "hse-us-east-cdn-distribution", {"httpVersion": "http2"},
     "cloudfront-http2-and-http3", "CloudFront distribution must serve HTTP/2 and HTTP/3 (httpVersion http2and3)."),
    ("us-east", "aws:elasticache/replicationGroup:ReplicationGroup", "hse-us-east-cache", {"transitEncryptionEnabled": False},
     "elasticache-in-transit-encryption", "ElastiCache replication group must require encryption in transit."),
])
def test_a_changed_resource_fires_its_rule(plans, engine, stack, type_, name, props, policy, message):
    before = fired(plans[stack], engine)
    after = fired(mutate(plans[stack], type_, name, **props), engine)
    assert after - before == {(policy, name, message)}


def test_the_image_optimization_rules_fire_on_the_real_plan(plans, engine):
    before = fired(plans["us-east"], engine)
    grab = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    after = fired(mutate(plans["us-east"], "aws:iam/rolePolicy:RolePolicy", "hse-us-east-cdn-image-transform",
                         policy=grab), engine)
    assert after - before == {("image-function-least-privilege", "hse-us-east-cdn-image-transform",
                               "Image transformation function may only read uploads and write its logs "
                               "(found ['s3:*']).")}
    after = fired(mutate(plans["us-east"], "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                         "hse-us-east-cdn-uploads-public-access", blockPublicPolicy=False), engine)
    assert ("cdn-image-originals-private", "hse-us-east-cdn-uploads",
            "Image originals bucket hse-us-east-cdn-uploads must block all public access.") in after - before
    unbounded = {"parametersInCacheKeyAndForwardedToOrigin": {
        **plans["us-east"].one("aws:cloudfront/cachePolicy:CachePolicy", "hse-us-east-cdn-cache-upload-images")
        .input("parametersInCacheKeyAndForwardedToOrigin"), "queryStringsConfig": {"queryStringBehavior": "all"}}}
    after = fired(mutate(plans["us-east"], "aws:cloudfront/cachePolicy:CachePolicy",
                         "hse-us-east-cdn-cache-upload-images", **unbounded), engine)
    assert after - before == {
        ("cdn-image-variants-bounded", "hse-us-east-cdn-distribution",
         f"CloudFront image behavior /uploads/*.{ext} must key its cache on the variant (w, f) only, normalised by a "
         "viewer-request function.") for ext in ("jpg", "jpeg", "png", "webp", "avif")}


def test_an_app_instance_count_that_disagrees_with_the_pool_fires(plans):
    plan = copy.deepcopy(plans["eu-west"])
    plan.root.outputs["appInstanceCount"] = 4
    found = fired(plan)
    assert ("db-proxy-pool-size", "(stack)",
            "Database pool must be 20 connections per application instance, 80 for 4 instances (found 60).") in found


def test_the_apps_kubernetes_objects_are_checked_on_the_real_plan(plans):
    """The rules find the program's own objects (one Deployment per colour, by label)."""
    plan = copy.deepcopy(plans["us-east"])
    # Stack rules read what was deployed (outputs), as under the CLI.
    deployment = plan.single("kubernetes:apps/v1:Deployment")
    deployment.outputs["spec"]["replicas"] = 1
    hpa = plan.single("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    hpa.outputs["spec"]["minReplicas"] = 1
    pdb = plan.single("kubernetes:policy/v1:PodDisruptionBudget")
    del pdb.outputs["spec"]["maxUnavailable"]
    found = fired(plan)
    assert ("app-replicas-match-instance-count", "hse-us-east-app-blue",
            "Deployment must run appInstanceCount = 5 replicas (found 1).") in found
    assert ("hpa-minimum-matches-instance-count", "hse-us-east-app-blue-hpa",
            "HorizontalPodAutoscaler minReplicas must be appInstanceCount = 5 (found 1).") in found
    assert ("app-disruption-budget", "(stack)",
            "Deployment hse-app-blue must have a PodDisruptionBudget selecting its pods.") in found
