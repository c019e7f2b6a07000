"""Observability, admin access and audits of one stack.

- `alarm_topics` (before the tiers whose alarms notify them): the region's encrypted
  alarm topic, and the edge's topic in us-east-1 where the Route53 health-check alarms
  live (the primary creates it; the secondaries' edge alarms notify the primary's).
- `build_observability_tier` (after them): the region's dashboard of the spec's metrics
  and its error-rate alarm; GuardDuty and Security Hub in every region; on the primary,
  the multi-region CloudTrail trail and, when its certificates are configured, the admin
  VPN into every region's private networks.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi

from components.admin_pki import AdminPki, AdminPkiArgs
from components.admin_vpn import AdminVpn, AdminVpnArgs
from components.observability import AlarmTopic, AlarmTopicArgs, DashboardArgs, RegionDashboard
from components.security_audit import AuditTrail, AuditTrailArgs, ThreatDetection
from infra.domain import db_sizing
from infra.config import StackConfig
from infra.domain.contract import RegionExports
from infra.domain.naming import GLOBAL_REGION, log_group_prefix, physical_prefix, prefix
from infra.tiers.providers import RegionalProviders


def alarm_topics(cfg: StackConfig, providers: RegionalProviders, key_arns: Mapping[str, Any],
                 primary_exports: Optional[RegionExports]) -> tuple[Any, Any]:
    """(the region's alarm topic ARN, the edge's alarm topic ARN in us-east-1)."""
    name = prefix(cfg.stack)
    emails = tuple(cfg.observability.alarm_emails)
    regional = AlarmTopic(f"{name}-alarms", AlarmTopicArgs(kms_key_arn=key_arns[cfg.aws_region], emails=emails),
                          pulumi.ResourceOptions(providers=[providers.home]))
    if not cfg.is_primary:
        return regional.arn, primary_exports.edge_alarm_topic_arn
    edge = AlarmTopic(f"{name}-edge-alarms", AlarmTopicArgs(kms_key_arn=key_arns[GLOBAL_REGION], emails=emails),
                      pulumi.ResourceOptions(providers=[providers.aws(GLOBAL_REGION)]))
    return regional.arn, edge.arn


def build_observability_tier(cfg: StackConfig, others: Mapping[str, StackConfig], providers: RegionalProviders,
                             region, account_id: str, key_arn: Any, topic_arn: Any,
                             outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Declare the dashboard, the detectors and (primary) the trail and the VPN; return outputs."""
    name = prefix(cfg.stack)
    physical = physical_prefix(cfg.environment, cfg.stack)
    home = pulumi.ResourceOptions(providers=[providers.home])
    aurora = cfg.database.engine == db_sizing.AURORA
    lag = ("AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 1000) if aurora \
        else ("ReplicaLag", "DBInstanceIdentifier", 1)
    dashboard = RegionDashboard(physical, DashboardArgs(
        stack=cfg.stack, aws_region=cfg.aws_region, replication_group_id=outputs["cacheReplicationGroupId"],
        db_cluster_id=outputs["dbClusterId"], db_lag_metric=lag, cdn_distribution_id=outputs["cdnDistributionId"],
        error_rate_alarm_percent=cfg.observability.error_rate_alarm_percent, alarm_actions=(topic_arn,),
        cdn_provider=str(outputs.get("cdnProvider", "cloudfront"))), home)
    detection = ThreatDetection(f"{name}-threats", home)

    result: dict[str, Any] = {"dashboardName": dashboard.dashboard_name, "guardDutyDetectorId": detection.detector_id,
                              "auditTrailArn": "", "adminVpnEndpointId": ""}
    if not cfg.is_primary:
        return result
    obs = cfg.observability
    trail = AuditTrail(f"{physical}-audit", AuditTrailArgs(
        account_id=account_id, region=cfg.aws_region, kms_key_arn=key_arn, bucket_prefix=f"{name}-audit-",
        archive_days=obs.archive_days), home)
    result["auditTrailArn"] = trail.trail_arn
    # The spec's admin VPN is always there: with imported certificates when the config
    # names them, else with certificates the program makes (components/admin_pki.py).
    server_arn: Any = obs.vpn_server_certificate_arn
    client_root_arn: Any = obs.vpn_client_root_certificate_arn or obs.vpn_server_certificate_arn
    if not server_arn:
        pki = AdminPki(f"{name}-admin-pki", AdminPkiArgs(domain=str(outputs.get("domain", "")),
                                                         organization="HSE Digital"), providers.tls, home)
        server_arn = client_root_arn = pki.server_certificate_arn
        result["adminVpnCaCertificatePem"] = pki.ca_certificate_pem
        result["adminVpnClientCertificatePem"] = pki.client_certificate_pem
        result["adminVpnClientKeyPem"] = pki.client_key_pem
    vpn = AdminVpn(f"{name}-admin-vpn", AdminVpnArgs(
        vpc_id=region.vpc_id, vpc_cidr=cfg.network.vpc_cidr, subnet_ids=region.subnet_ids["app"],
        region_cidrs=[cfg.network.vpc_cidr, *(o.network.vpc_cidr for o in
                                              sorted(others.values(), key=lambda o: o.deploy_order))],
        client_cidr=obs.vpn_client_cidr, server_certificate_arn=server_arn,
        client_root_certificate_arn=client_root_arn,
        log_group_prefix=log_group_prefix(cfg.environment, cfg.stack), kms_key_arn=key_arn,
        log_retention_days=cfg.network.flow_log_retention_days,
        database_group_id=region.security_groups.database_group_id), home)
    result["adminVpnEndpointId"] = vpn.endpoint_id
    return result
