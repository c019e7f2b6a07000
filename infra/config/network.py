"""The network section: the regional VPC (`hse:vpcCidr`, zones, NAT gateways, flow logs).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from pydantic import Field

from infra.config.base import Section

if TYPE_CHECKING:
    pass


class NetworkConfig(Section):
    """The regional VPC."""

    vpc_cidr: str = Field(alias="vpcCidr",
                          description="IPv4 CIDR of the region's VPC, a private /16 to /20; unique across stacks.")
    availability_zones: list[str] = Field(alias="availabilityZones",
                                          description="The three availability zones of the region the VPC spans.")
    nat_gateway_count: int = Field(3, alias="natGatewayCount",
                                   description="NAT gateways, 1 up to one per AZ (3, one per AZ, for zone independence).")
    flow_log_retention_days: int = Field(365, alias="flowLogRetentionDays",
                                         description="Retention of the VPC flow log group, in days (a CloudWatch Logs period).")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.vpc_cidr)
