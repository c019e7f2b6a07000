"""Each resource rule: the happy-path resource passes, one property changed fails with the exact message."""

from __future__ import annotations

import pytest

from policies import types as t
from tests.policies import fixtures as f
from tests.policies.support import changed, run_resource

# (policy, type, happy props, the one change, the exact message)
CASES = [
    ("peering-routes-specific", t.ROUTE, f.PEER_ROUTE, {"destinationCidrBlock": "0.0.0.0/0"},
     "A route through a VPC peering connection must target the peer's networks, not all traffic."),
    ("ingress-not-open-to-internet", t.INGRESS_RULE, f.INGRESS, {"cidrIpv4": "0.0.0.0/0"},
     "Security group ingress must not be open to the internet."),
    ("subnet-no-public-ip", t.SUBNET, f.SUBNET, {"mapPublicIpOnLaunch": True},
     "Subnet must not assign public IP addresses on launch."),
    ("security-group-rule-description", t.INGRESS_RULE, f.INGRESS, {"description": ""},
     "Security group rule must have a description."),
    ("rds-cluster-storage-encrypted", t.RDS_CLUSTER, f.CLUSTER, {"storageEncrypted": False},
     "RDS cluster must have storage encryption enabled."),
    ("rds-cluster-kms-cmk", t.RDS_CLUSTER, f.CLUSTER, {"kmsKeyId": None},
     "RDS cluster must be encrypted with a customer-managed KMS key (kmsKeyId)."),
    ("rds-global-cluster-encrypted", t.RDS_GLOBAL_CLUSTER, f.GLOBAL, {"storageEncrypted": False},
     "RDS global cluster must have storage encryption enabled."),
    ("rds-backup-retention", t.RDS_CLUSTER, f.CLUSTER, {"backupRetentionPeriod": 7},
     "Database backup retention must be at least 30 days (found 7)."),
    ("rds-deletion-protection", t.RDS_CLUSTER, f.CLUSTER, {"deletionProtection": False},
     "Database must have deletion protection enabled."),
    ("rds-iam-authentication", t.RDS_CLUSTER, f.CLUSTER, {"iamDatabaseAuthenticationEnabled": None},
     "Database must have IAM database authentication enabled."),
    ("rds-log-exports", t.RDS_CLUSTER, f.CLUSTER, {"enabledCloudwatchLogsExports": []},
     "Database must export its postgresql log to CloudWatch Logs."),
    ("rds-performance-insights", t.RDS_CLUSTER_INSTANCE, f.INSTANCE, {"performanceInsightsEnabled": False},
     "Database instance must have Performance Insights enabled."),
    ("rds-performance-insights-kms", t.RDS_CLUSTER_INSTANCE, f.INSTANCE, {"performanceInsightsKmsKeyId": None},
     "Performance Insights must be encrypted with a customer-managed KMS key."),
    ("rds-not-public", t.RDS_CLUSTER_INSTANCE, f.INSTANCE, {"publiclyAccessible": True},
     "Database instance must not be publicly accessible."),
    ("rds-copy-tags-to-snapshot", t.RDS_CLUSTER, f.CLUSTER, {"copyTagsToSnapshot": False},
     "Database must copy its tags to snapshots."),
    ("postgres-query-logging", t.RDS_CLUSTER_PARAMETER_GROUP, f.PARAMS,
     {"parameters": [{"name": "log_statement", "value": "none"}, {"name": "rds.force_ssl", "value": "1"}]},
     "PostgreSQL parameter group must set log_statement and log_min_duration_statement."),
    ("postgres-force-ssl", t.RDS_CLUSTER_PARAMETER_GROUP, f.PARAMS, {"parameters": f.PARAMS["parameters"][:2]},
     "PostgreSQL parameter group must set rds.force_ssl to 1."),
    ("db-proxy-require-tls", t.RDS_PROXY, f.PROXY, {"requireTls": False}, "RDS Proxy must require TLS."),
    ("aurora-global-member-engine-version", t.RDS_CLUSTER, f.CLUSTER, {"engineVersion": "16.7"},
     "Aurora global member cluster must leave engineVersion to the global cluster (unset or ignored)."),
    ("aurora-global-cluster-engine-version", t.RDS_GLOBAL_CLUSTER, f.GLOBAL, {"engineVersion": None},
     "RDS global cluster must set engineVersion."),
    ("aurora-global-no-managed-password", t.RDS_CLUSTER, f.CLUSTER, {"manageMasterUserPassword": True},
     "Aurora global member cluster must not use an RDS-managed master password."),
    ("replication-lag-alarm-below-rpo", t.METRIC_ALARM, f.LAG_ALARM, {"threshold": 60000},
     "Replication-lag alarm must fire below the RPO of 60 s (threshold 60 s)."),
    ("elasticache-at-rest-encryption", t.REPLICATION_GROUP, f.REDIS, {"atRestEncryptionEnabled": False},
     "ElastiCache replication group must be encrypted at rest."),
    ("elasticache-in-transit-encryption", t.REPLICATION_GROUP, f.REDIS, {"transitEncryptionMode": "preferred"},
     "ElastiCache replication group must require encryption in transit."),
    ("elasticache-authentication", t.REPLICATION_GROUP, f.REDIS, {"userGroupIds": []},
     "ElastiCache replication group must authenticate clients (an AUTH token or RBAC user groups)."),
    ("elasticache-kms-cmk", t.REPLICATION_GROUP, f.REDIS, {"kmsKeyId": None},
     "ElastiCache replication group must be encrypted with a customer-managed KMS key."),
    ("elasticache-automatic-failover", t.REPLICATION_GROUP, f.REDIS, {"automaticFailoverEnabled": False},
     "ElastiCache replication group must have Multi-AZ automatic failover enabled."),
    ("redis-cluster-topology", t.REPLICATION_GROUP, f.REDIS, {"numNodeGroups": 2},
     "Redis cluster must have at least 3 shards with 1 replica each (found 2 × 1)."),
    ("redis-snapshots", t.REPLICATION_GROUP, f.REDIS, {"snapshotRetentionLimit": 0},
     "Redis cluster must keep daily snapshots (snapshotRetentionLimit of at least 1)."),
    ("redis-default-user-off", t.CACHE_USER, f.DEFAULT_USER, {"accessString": "on ~* +@all"},
     "The Redis default user must be off."),
    ("cloudfront-https-only", t.DISTRIBUTION, f.DISTRIBUTION,
     {"defaultCacheBehavior": {**f.BEHAVIOR, "viewerProtocolPolicy": "allow-all"}},
     "CloudFront cache behaviors must redirect HTTP to HTTPS or allow HTTPS only."),
    ("cloudfront-tls-1-2", t.DISTRIBUTION, f.DISTRIBUTION, {"viewerCertificate": {"minimumProtocolVersion": "TLSv1_2016"}},
     "CloudFront must require TLS 1.2 or later from viewers."),
    ("cloudfront-waf", t.DISTRIBUTION, f.DISTRIBUTION, {"webAclId": None},
     "CloudFront distribution must be protected by a WAF web ACL."),
    ("cloudfront-access-logging", t.DISTRIBUTION, f.DISTRIBUTION, {"loggingConfig": None},
     "CloudFront distribution must write access logs."),
    ("cloudfront-origin-failover", t.DISTRIBUTION, f.DISTRIBUTION, {"originGroups": []},
     "CloudFront distribution must have an origin group that fails over between two origins."),
    ("cloudfront-s3-origin-access", t.DISTRIBUTION, f.DISTRIBUTION,
     {"origins": [{"originId": "uploads", "domainName": "b.s3.us-east-1.amazonaws.com"}]},
     "CloudFront S3 origin uploads must use origin access control."),
    ("cloudfront-http2-and-http3", t.DISTRIBUTION, f.DISTRIBUTION, {"httpVersion": "http2"},
     "CloudFront distribution must serve HTTP/2 and HTTP/3 (httpVersion http2and3)."),
    ("cdn-compression", t.DISTRIBUTION, f.DISTRIBUTION, {"defaultCacheBehavior": {**f.BEHAVIOR, "compress": False}},
     "CloudFront cache behaviors must compress responses."),
    ("cdn-compression", t.CACHE_POLICY, f.CACHE_POLICY, {"parametersInCacheKeyAndForwardedToOrigin": {
        "enableAcceptEncodingGzip": True, "enableAcceptEncodingBrotli": False}},
     "CloudFront cache policy must accept gzip and Brotli encodings."),
    ("routed-record-ttl", t.RECORD, f.GEO_RECORD, {"ttl": 300},
     "Routed DNS record TTL must be at most 60 s (found 300)."),
    ("health-check-endpoint", t.HEALTH_CHECK, f.HEALTH_CHECK, {"resourcePath": "/"},
     "Health check must probe HTTPS /api/health (found HTTPS /)."),
    ("health-check-timing", t.HEALTH_CHECK, f.HEALTH_CHECK, {"failureThreshold": 5},
     "Health check must run at least every 30 s and fail after at most 3 failures (found 30 s × 5)."),
    ("eks-private-endpoint", t.EKS_CLUSTER, f.EKS, {"vpcConfig": {"endpointPrivateAccess": True}},
     "EKS public endpoint must admit only named networks of /16 or narrower (found ['(none named: 0.0.0.0/0)'])."),
    ("eks-private-endpoint", t.EKS_CLUSTER, f.EKS,
     {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": ["10.0.0.0/15"]}},
     "EKS public endpoint must admit only named networks of /16 or narrower (found ['10.0.0.0/15'])."),
    ("eks-private-endpoint", t.EKS_CLUSTER, f.EKS, {"vpcConfig": {"endpointPublicAccess": False}},
     "EKS cluster endpoint must have private access on."),
    ("eks-public-endpoint-restricted", t.EKS_CLUSTER, f.EKS,
     {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}},
     "EKS public endpoint must not be open to 0.0.0.0/0."),
    ("eks-secrets-encryption", t.EKS_CLUSTER, f.EKS, {"encryptionConfig": None},
     "EKS cluster must encrypt Kubernetes secrets with a KMS key."),
    ("eks-control-plane-logging", t.EKS_CLUSTER, f.EKS, {"enabledClusterLogTypes": ["api", "audit"]},
     "EKS cluster must log every control-plane log type (missing authenticator, controllerManager, scheduler)."),
    ("node-imdsv2-hop-limit", t.LAUNCH_TEMPLATE, f.LAUNCH_TEMPLATE,
     {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "optional", "httpPutResponseHopLimit": 1}},
     "Launch template must require IMDSv2 tokens (httpTokens found optional)."),
    ("node-imdsv2-hop-limit", t.LAUNCH_TEMPLATE, f.LAUNCH_TEMPLATE,
     {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 2}},
     "Launch template must set the metadata response hop limit to 1 (found 2)."),
    ("node-imdsv2-hop-limit", t.LAUNCH_TEMPLATE, f.LAUNCH_TEMPLATE,
     {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required"}},
     "Launch template must set the metadata response hop limit to 1 (found None)."),
    ("app-health-probes", t.DEPLOYMENT, f.DEPLOYMENT, {"spec": {**f.DEPLOYMENT["spec"], "template": {"spec": {
        "containers": [{"name": "app", "readinessProbe": f.PROBE, "livenessProbe": {"httpGet": {"path": "/"}}}]}}}},
     "Container app must have a livenessProbe on /api/health (found /)."),
    ("kms-key-rotation", t.KMS_KEY, f.KMS_KEY, {"enableKeyRotation": False},
     "KMS key must have automatic rotation enabled."),
    ("kms-key-policy-no-open-principal", t.KMS_KEY, f.KMS_KEY, {"policy": f.KMS_KEY["policy"].replace(
        '"Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}', '"Condition": {}')},
     "KMS key policy statement Services must not allow every principal without a kms:CallerAccount condition."),
    ("secret-kms-cmk", t.SECRET, f.SECRET, {"kmsKeyId": None},
     "Secrets Manager secret must be encrypted with a customer-managed KMS key."),
    ("log-group-kms", t.LOG_GROUP, f.LOG_GROUP, {"kmsKeyId": None},
     "CloudWatch log group must be encrypted with a KMS key."),
    ("log-group-retention", t.LOG_GROUP, f.LOG_GROUP, {"retentionInDays": 90},
     "CloudWatch log group must keep logs at least 365 days (found 90)."),
    ("flow-log-all-traffic", t.FLOW_LOG, f.FLOW_LOG, {"trafficType": "REJECT"}, "VPC flow log must capture ALL traffic."),
    ("alarm-notifies-topic", t.METRIC_ALARM, f.ALARM, {"alarmActions": []},
     "CloudWatch alarm must notify an SNS topic (alarmActions)."),
    ("backup-plan-retention", t.BACKUP_PLAN, f.BACKUP_PLAN,
     {"rules": [{**f.BACKUP_PLAN["rules"][0], "lifecycle": {"deleteAfter": 7}}]},
     "Backup rule daily must keep backups and copies at least 30 days (found 7)."),
    ("backup-cross-region-copy", t.BACKUP_PLAN, f.BACKUP_PLAN,
     {"rules": [{**f.BACKUP_PLAN["rules"][0], "copyActions": []}]},
     "Backup rule daily must copy backups to another region."),
    ("backup-vault-kms", t.BACKUP_VAULT, f.VAULT, {"kmsKeyArn": None},
     "Backup vault must be encrypted with a customer-managed KMS key."),
]
IGNORES = {"aurora-global-member-engine-version": ["globalClusterIdentifier", "replicationSourceIdentifier"]}


@pytest.mark.parametrize("policy,type_,happy,change,message", CASES, ids=[f"{c[0]}-{c[1].rsplit(':', 1)[-1]}" for c in CASES])
def test_happy_path_passes_and_one_change_fails(policy, type_, happy, change, message):
    ignores = IGNORES.get(policy, f.CLUSTER_IGNORES)
    assert run_resource(policy, type_, happy, ignore_changes=f.CLUSTER_IGNORES) == []
    assert run_resource(policy, type_, changed(happy, **change), ignore_changes=ignores) == [message]


def test_asymmetric_keys_cannot_rotate_and_are_not_asked_to():
    signing = changed(f.KMS_KEY, enableKeyRotation=False, customerMasterKeySpec="ECC_NIST_P256")
    assert run_resource("kms-key-rotation", t.KMS_KEY, signing) == []
    assert run_resource("kms-key-rotation", t.KMS_KEY, changed(signing, customerMasterKeySpec="SYMMETRIC_DEFAULT")) == [
        "KMS key must have automatic rotation enabled."]


def test_a_fis_stop_condition_pages_nobody():
    stop = changed(f.ALARM, alarmActions=[], tags={"hse:stop-condition": "fis"})
    assert run_resource("alarm-notifies-topic", t.METRIC_ALARM, stop) == []
    assert run_resource("alarm-notifies-topic", t.METRIC_ALARM, changed(stop, tags={"team": "ops"})) == [
        "CloudWatch alarm must notify an SNS topic (alarmActions)."]


def test_other_types_are_not_checked():
    assert run_resource("rds-cluster-storage-encrypted", t.RDS_INSTANCE, {"storageEncrypted": False}) == []


def test_aurora_global_member_ignores_the_identifiers():
    assert run_resource("aurora-global-ignore-changes", t.RDS_CLUSTER, f.CLUSTER, ignore_changes=f.CLUSTER_IGNORES) == []
    assert run_resource("aurora-global-ignore-changes", t.RDS_CLUSTER, f.CLUSTER,
                        ignore_changes=["globalClusterIdentifier"]) == [
        "Aurora global member cluster must ignore changes to replicationSourceIdentifier."]
    # A cluster outside any global database needs neither.
    assert run_resource("aurora-global-ignore-changes", t.RDS_CLUSTER, changed(f.CLUSTER, globalClusterIdentifier=None)) == []


@pytest.mark.parametrize("policy,type_,props,key,good,bad,message", [
    ("rds-backup-retention", t.RDS_CLUSTER, f.CLUSTER, "backupRetentionPeriod", 30, 29,
     "Database backup retention must be at least 30 days (found 29)."),
    ("routed-record-ttl", t.RECORD, f.GEO_RECORD, "ttl", 60, 61, "Routed DNS record TTL must be at most 60 s (found 61)."),
    ("health-check-timing", t.HEALTH_CHECK, f.HEALTH_CHECK, "failureThreshold", 3, 4,
     "Health check must run at least every 30 s and fail after at most 3 failures (found 30 s × 4)."),
    ("health-check-timing", t.HEALTH_CHECK, f.HEALTH_CHECK, "requestInterval", 30, 31,
     "Health check must run at least every 30 s and fail after at most 3 failures (found 31 s × 3)."),
    ("redis-cluster-topology", t.REPLICATION_GROUP, f.REDIS, "numNodeGroups", 3, 2,
     "Redis cluster must have at least 3 shards with 1 replica each (found 2 × 1)."),
    ("redis-cluster-topology", t.REPLICATION_GROUP, f.REDIS, "replicasPerNodeGroup", 1, 0,
     "Redis cluster must have at least 3 shards with 1 replica each (found 3 × 0)."),
    ("replication-lag-alarm-below-rpo", t.METRIC_ALARM, f.LAG_ALARM, "threshold", 59999, 60000,
     "Replication-lag alarm must fire below the RPO of 60 s (threshold 60 s)."),
    ("log-group-retention", t.LOG_GROUP, f.LOG_GROUP, "retentionInDays", 365, 180,
     "CloudWatch log group must keep logs at least 365 days (found 180)."),
])
def test_numeric_bounds_on_both_sides(policy, type_, props, key, good, bad, message):
    assert run_resource(policy, type_, changed(props, **{key: good})) == []
    assert run_resource(policy, type_, changed(props, **{key: bad})) == [message]


def test_rds_replica_lag_in_seconds_and_a_read_replica_needs_no_backups():
    alarm = changed(f.LAG_ALARM, metricName="ReplicaLag", threshold=60)
    assert run_resource("replication-lag-alarm-below-rpo", t.METRIC_ALARM, alarm) == [
        "Replication-lag alarm must fire below the RPO of 60 s (threshold 60 s)."]
    replica = {"replicateSourceDb": "arn:aws:rds:us-east-1:1:db:primary", "backupRetentionPeriod": 0}
    assert run_resource("rds-backup-retention", t.RDS_INSTANCE, replica) == []


def test_policy_config_moves_a_bound():
    assert run_resource("rds-backup-retention", t.RDS_CLUSTER, changed(f.CLUSTER, backupRetentionPeriod=30),
                        config={"minimumDays": 35}) == ["Database backup retention must be at least 35 days (found 30)."]


def test_a_public_endpoint_restricted_to_the_deployers_network_passes():
    props = {**f.EKS, "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True,
                                    "publicAccessCidrs": ["203.0.113.0/24", "10.0.0.0/16"]}}
    assert run_resource("eks-private-endpoint", t.EKS_CLUSTER, props) == []


MEMBER = {k: v for k, v in f.REDIS.items() if k not in (
    "atRestEncryptionEnabled", "transitEncryptionEnabled", "transitEncryptionMode", "numNodeGroups")} | {
    "globalReplicationGroupId": "ldgnf-staging-us-east-sessions"}


@pytest.mark.parametrize("policy", ["elasticache-at-rest-encryption", "elasticache-in-transit-encryption",
                                    "redis-cluster-topology"])
def test_a_global_datastore_member_leaves_the_datastores_settings_to_its_primary(policy):
    # With no plan of the primary in view (a single stack's preview), the primary's own check decides.
    assert run_resource(policy, t.REPLICATION_GROUP, MEMBER) == []


def test_a_global_datastore_member_is_still_judged_on_what_it_states():
    assert run_resource("elasticache-at-rest-encryption", t.REPLICATION_GROUP,
                        changed(MEMBER, atRestEncryptionEnabled=False)) == [
        "ElastiCache replication group must be encrypted at rest."]
    assert run_resource("elasticache-in-transit-encryption", t.REPLICATION_GROUP,
                        changed(MEMBER, transitEncryptionEnabled=True, transitEncryptionMode="preferred")) == [
        "ElastiCache replication group must require encryption in transit."]
    # Its replicas are its own: a member without one fails whatever the datastore's shards.
    assert run_resource("redis-cluster-topology", t.REPLICATION_GROUP, changed(MEMBER, replicasPerNodeGroup=0)) == [
        "Redis cluster must have at least 3 shards with 1 replica each (found unknown × 0)."]
    assert run_resource("redis-cluster-topology", t.REPLICATION_GROUP, changed(MEMBER, numNodeGroups=2)) == [
        "Redis cluster must have at least 3 shards with 1 replica each (found 2 × 1)."]
