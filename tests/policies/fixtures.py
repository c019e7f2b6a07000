"""Happy-path resources, one per type, as a real stack declares them (inputs, camelCase)."""

from policies import types as t

KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-0123"

CLUSTER = {"engine": "aurora-postgresql", "storageEncrypted": True, "kmsKeyId": KEY, "backupRetentionPeriod": 30,
           "deletionProtection": True, "iamDatabaseAuthenticationEnabled": True,
           "enabledCloudwatchLogsExports": ["postgresql"], "copyTagsToSnapshot": True,
           "globalClusterIdentifier": "hse-global", "engineVersion": "16.6", "clusterIdentifier": "hse-db"}
CLUSTER_IGNORES = ["globalClusterIdentifier", "replicationSourceIdentifier", "engineVersion", "masterPassword"]
GLOBAL = {"engine": "aurora-postgresql", "engineVersion": "16.6", "storageEncrypted": True,
          "globalClusterIdentifier": "hse-global"}
INSTANCE = {"performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": KEY, "publiclyAccessible": False,
            "clusterIdentifier": "hse-db", "availabilityZone": "us-east-1a", "instanceClass": "db.r6g.large"}
PARAMS = {"family": "aurora-postgresql16", "parameters": [
    {"name": "log_statement", "value": "ddl"}, {"name": "log_min_duration_statement", "value": "1000"},
    {"name": "rds.force_ssl", "value": "1"}]}
PROXY = {"requireTls": True, "engineFamily": "POSTGRESQL"}
LAG_ALARM = {"metricName": "AuroraGlobalDBReplicationLag", "threshold": 30000, "alarmActions": ["arn:aws:sns:topic"],
             "dimensions": {"DBClusterIdentifier": "hse-db"}}
REDIS = {"atRestEncryptionEnabled": True, "transitEncryptionEnabled": True, "transitEncryptionMode": "required",
         "userGroupIds": ["users"], "kmsKeyId": KEY, "automaticFailoverEnabled": True, "multiAzEnabled": True,
         "numNodeGroups": 3, "replicasPerNodeGroup": 1, "snapshotRetentionLimit": 7}
DEFAULT_USER = {"userName": "default", "accessString": "off -@all"}
BEHAVIOR = {"viewerProtocolPolicy": "redirect-to-https", "compress": True, "cachePolicyId": "dynamic"}
DISTRIBUTION = {
    "httpVersion": "http2and3", "webAclId": "arn:aws:wafv2:us-east-1:111122223333:global/webacl/x",
    "viewerCertificate": {"minimumProtocolVersion": "TLSv1.2_2021", "acmCertificateArn": "arn:aws:acm:x"},
    "loggingConfig": {"bucket": "logs.s3.amazonaws.com"},
    "originGroups": [{"originId": "app-failover", "failoverCriteria": {"statusCodes": [500, 502, 503, 504]},
                      "members": [{"originId": "app"}, {"originId": "nearest"}]}],
    "origins": [{"originId": "app", "domainName": "app.example.com"},
                {"originId": "uploads", "domainName": "b.s3.us-east-1.amazonaws.com", "originAccessControlId": "E1"}],
    "defaultCacheBehavior": BEHAVIOR,
    "orderedCacheBehaviors": [{**BEHAVIOR, "pathPattern": "/api/*", "cachePolicyId": "api"},
                              {**BEHAVIOR, "pathPattern": "/assets/*", "cachePolicyId": "static"}]}
CACHE_POLICY = {"defaultTtl": 3600, "maxTtl": 3600, "parametersInCacheKeyAndForwardedToOrigin": {
    "enableAcceptEncodingGzip": True, "enableAcceptEncodingBrotli": True}}
GEO_RECORD = {"name": "app.example.com", "type": "CNAME", "ttl": 60, "healthCheckId": "hc-1",
              "records": ["us-east.example.com"], "geolocationRoutingPolicies": [{"continent": "NA"}]}
HEALTH_CHECK = {"type": "HTTPS", "resourcePath": "/api/health", "requestInterval": 30, "failureThreshold": 3}
EKS = {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False},
       "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
       "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}
LAUNCH_TEMPLATE = {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                                       "httpPutResponseHopLimit": 1}}
PROBE = {"httpGet": {"path": "/api/health", "port": 8080}}
# The program's shapes: one Deployment per colour, found by its `app` label.
DEPLOYMENT = {"metadata": {"name": "hse-app-blue", "labels": {"app": "hse-app", "colour": "blue"}}, "spec": {
    "replicas": 5, "selector": {"matchLabels": {"app": "hse-app", "colour": "blue"}},
    "template": {"spec": {"containers": [{"name": "app", "readinessProbe": PROBE, "livenessProbe": PROBE}]}}}}
HPA = {"metadata": {"name": "hse-app-blue"}, "spec": {"minReplicas": 5, "maxReplicas": 20,
                                                      "scaleTargetRef": {"kind": "Deployment", "name": "hse-app-blue"}}}
PDB = {"metadata": {"name": "hse-app-blue"}, "spec": {"maxUnavailable": 1, "selector": {
    "matchLabels": {"app": "hse-app", "colour": "blue"}}}}
KMS_KEY = {"enableKeyRotation": True, "policy": (
    '{"Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, '
    '"Action": "kms:*"}, {"Sid": "Services", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", '
    '"Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}]}')}
SECRET = {"kmsKeyId": KEY}
LOG_GROUP = {"kmsKeyId": KEY, "retentionInDays": 365}
FLOW_LOG = {"trafficType": "ALL", "vpcId": "vpc-1"}
ALARM = {"metricName": "CPUUtilization", "threshold": 80, "alarmActions": ["arn:aws:sns:us-east-1:1:alarms"]}
BACKUP_PLAN = {"rules": [{"ruleName": "daily", "lifecycle": {"deleteAfter": 30}, "copyActions": [
    {"lifecycle": {"deleteAfter": 30}, "destinationVaultArn": "arn:aws:backup:eu-west-1:1:backup-vault:v"}]}]}
VAULT = {"kmsKeyArn": KEY}
PEER_ROUTE = {"routeTableId": "rtb-1", "destinationCidrBlock": "10.1.0.0/16", "vpcPeeringConnectionId": "pcx-1"}
INGRESS = {"description": "PostgreSQL from the app tier", "cidrIpv4": "10.0.0.0/18", "fromPort": 5432, "toPort": 5432}
SUBNET = {"cidrBlock": "10.0.0.0/19", "mapPublicIpOnLaunch": False}

