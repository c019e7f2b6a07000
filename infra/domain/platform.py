"""The platform as the operational tools see it: every region's identifiers, read from
stack outputs (`pulumi stack output --json`), from an offline plan, or from the state
store, where every stack registers its region (`RegionRecord.to_item`).

One `Platform` answers "which cluster is us-east's", "who is the original primary" and
"which tenants must stay in a zone" without knowing any region by name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Optional


class PlatformError(Exception):
    """The platform description is incomplete or inconsistent: a message, no traceback."""


# Outputs the workloads tier exports; until it does, the names below are the convention.
WORKLOAD_DEFAULTS = {
    "eksClusterName": "hse-{stack}-eks",
    "eksNodeGroupName": "hse-{stack}-nodes",
}


@dataclass(frozen=True)
class RegionRecord:
    """One region of the platform, in the terms the controller acts on."""

    stack: str
    aws_region: str
    role: str
    """The role the stack files give it (the original topology): primary or secondary."""
    deploy_order: int
    db_engine: str
    db_cluster_id: str
    db_cluster_arn: str
    db_global_cluster_id: str
    health_check_id: str
    regional_endpoint: str
    hosted_zone_id: str
    domain: str
    app_instance_count: int
    eks_cluster_name: str
    eks_node_group_name: str
    alarm_topic_arn: str
    cache_replication_group_id: str = ""
    cache_global_datastore_id: str = ""
    tenant_routes: tuple[dict, ...] = field(default_factory=tuple)

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any], app_instance_count: Optional[int] = None) -> "RegionRecord":
        """From one stack's outputs (camelCase); workload names fall back to the convention."""
        stack = outputs.get("stack")
        if not isinstance(stack, str) or not stack:
            raise PlatformError("stack outputs without 'stack': not an output set of this project")

        def need(key: str) -> Any:
            if key not in outputs:
                raise PlatformError(f"stack {stack}: output {key!r} is missing")
            return outputs[key]

        count = outputs.get("appInstanceCount", app_instance_count)
        if not isinstance(count, int) or count < 1:
            raise PlatformError(f"stack {stack}: output 'appInstanceCount' is missing (or give it from the stack file)")
        region = need("awsRegion")
        return cls(
            stack=stack, aws_region=region, role=need("role"), deploy_order=int(need("deployOrder")),
            db_engine=need("dbEngine"), db_cluster_id=need("dbClusterId"), db_cluster_arn=need("dbClusterArn"),
            db_global_cluster_id=outputs.get("dbGlobalClusterId", ""), health_check_id=need("healthCheckId"),
            regional_endpoint=need("regionalEndpoint"), hosted_zone_id=need("hostedZoneId"), domain=need("domain"),
            app_instance_count=count,
            eks_cluster_name=outputs.get("eksClusterName") or WORKLOAD_DEFAULTS["eksClusterName"].format(stack=stack),
            eks_node_group_name=outputs.get("eksNodeGroupName")
            or WORKLOAD_DEFAULTS["eksNodeGroupName"].format(stack=stack),
            alarm_topic_arn=outputs.get("alarmTopicArn")
            or f"arn:aws:sns:{region}:{need('accountId')}:hse-{stack}-alarms",
            cache_replication_group_id=outputs.get("cacheReplicationGroupId", ""),
            cache_global_datastore_id=outputs.get("cacheGlobalDatastoreId", ""),
            tenant_routes=tuple(outputs.get("tenantRoutes") or ()),
        )

    def to_item(self) -> dict[str, Any]:
        """As the state store keeps it (see `infra.ops.state`)."""
        data = asdict(self)
        data["tenant_routes"] = list(self.tenant_routes)
        return data

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "RegionRecord":
        fields = {k: item[k] for k in cls.__dataclass_fields__ if k in item}
        fields["deploy_order"] = int(fields["deploy_order"])
        fields["app_instance_count"] = int(fields["app_instance_count"])
        fields["tenant_routes"] = tuple(dict(r) for r in fields.get("tenant_routes") or ())
        return cls(**fields)


@dataclass(frozen=True)
class Platform:
    """Every region, in deploy order."""

    regions: tuple[RegionRecord, ...]

    def __post_init__(self) -> None:
        if not self.regions:
            raise PlatformError("no region is known: plan or deploy the stacks first")
        primaries = [r.stack for r in self.regions if r.role == "primary"]
        if len(primaries) != 1:
            raise PlatformError(f"exactly one primary expected, found {primaries or 'none'}")

    @classmethod
    def of(cls, records: Iterable[RegionRecord]) -> "Platform":
        return cls(tuple(sorted(records, key=lambda r: r.deploy_order)))

    @property
    def original_primary(self) -> RegionRecord:
        return next(r for r in self.regions if r.role == "primary")

    @property
    def stacks(self) -> list[str]:
        return [r.stack for r in self.regions]

    def region(self, stack: str) -> RegionRecord:
        for record in self.regions:
            if record.stack == stack:
                return record
        raise PlatformError(f"unknown stack {stack!r}; known: {', '.join(self.stacks)}")

    def by_health_check(self, health_check_id: str) -> Optional[RegionRecord]:
        return next((r for r in self.regions if r.health_check_id == health_check_id), None)

    def by_cluster(self, cluster_id: str) -> Optional[RegionRecord]:
        return next((r for r in self.regions if cluster_id in (r.db_cluster_id, r.db_cluster_arn)), None)

    def by_cache(self, group_id: str) -> Optional[RegionRecord]:
        return next((r for r in self.regions
                     if r.cache_replication_group_id and group_id.startswith(r.cache_replication_group_id)), None)

    @property
    def tenant_routes(self) -> list[dict]:
        """The tenant routes (every stack exports the same list; the primary's is taken)."""
        return list(self.original_primary.tenant_routes)

    @property
    def primary_capacity(self) -> int:
        """The original primary's application instance count: what a promoted region scales to."""
        return self.original_primary.app_instance_count
