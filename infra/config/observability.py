"""The observability section: alarm routing, dashboards, audits and the admin VPN's keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from infra.config.base import Section

if TYPE_CHECKING:
    pass


class ObservabilityConfig(Section):
    """Alarm routing, dashboards, admin access, audit and storage tiers."""

    alarm_emails: list[str] = Field(default_factory=list, alias="alarmEmails",
                                    description="E-mail addresses subscribed to the region's alarm topic.")
    latency_alarm_ms: int = Field(1000, alias="latencyAlarmMs",
                                  description="Time to first byte of the regional health check that raises the "
                                              "latency alarm, 100 to 10000 ms (the spec's budget is 10 s).")
    error_rate_alarm_percent: int = Field(5, alias="errorRateAlarmPercent",
                                          description="Share of 5xx answers that raises the error alarm, 1 to 50 %.")
    vpn_server_certificate_arn: str = Field("", alias="vpnServerCertificateArn",
                                            description="ACM ARN of an imported server certificate for the admin "
                                                        "VPN; empty: the program makes its own CA and certificates. "
                                                        "Primary only.")
    vpn_client_root_certificate_arn: str = Field("", alias="vpnClientRootCertificateArn",
                                                 description="ACM ARN of the CA that signs admin client certificates. "
                                                             "Primary only.")
    vpn_client_cidr: str = Field("172.16.0.0/22", alias="vpnClientCidr",
                                 description="Addresses given to VPN clients, a /12 to /22 outside every VPC. Primary only.")
    archive_days: int = Field(90, alias="storageArchiveDays",
                              description="Days after which uploads and logs move to an archive storage class, 30 to 3650.")
