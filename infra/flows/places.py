"""Where the data stores and services of a stack sit, as network endpoints and ARNs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from infra.flows.identity import Identities
from infra.flows.network import Endpoint, Network
from infra.flows.plans import Found, PlanSet
from infra.flows.wiring import Dns, Publishers, Pods, pods
from infra.domain.metrics import published


@dataclass
class Context:
    """Everything a flow reads: the plans and the models built from them (once per run)."""

    plans: PlanSet
    network: Network
    identities: Identities
    dns: Dns
    publishers: Publishers

    @classmethod
    def of(cls, plans: PlanSet) -> "Context":
        return cls(plans, Network(plans), Identities(plans), Dns(plans), Publishers(plans, published()))

    def pods(self, stack: str) -> Pods:
        return pods(self.plans, stack)

    def region(self, stack: str) -> str:
        return str(self.plans.outputs(stack).get("awsRegion", ""))

    def account(self, stack: str) -> str:
        return str(self.plans.outputs(stack).get("accountId", ""))


def proxy(ctx: Context, stack: str) -> Optional[Found]:
    return next(iter(ctx.plans.of_type("aws:rds/proxy:Proxy", stack)), None)


def proxy_endpoint(found: Found, label: str) -> Endpoint:
    return Endpoint(label, tuple(found.get("vpcSubnetIds") or []), tuple(found.get("vpcSecurityGroupIds") or []))


def read_only_endpoint(ctx: Context, stack: str) -> Optional[Found]:
    return next((f for f in ctx.plans.of_type("aws:rds/proxyEndpoint:ProxyEndpoint", stack)
                 if f.get("targetRole") == "READ_ONLY"), None)


def database(ctx: Context, stack: str) -> Optional[Found]:
    """The stack's database: the Aurora cluster, or the RDS instance of the rds-postgres engine."""
    cluster = next(iter(ctx.plans.of_type("aws:rds/cluster:Cluster", stack)), None)
    return cluster or next(iter(ctx.plans.of_type("aws:rds/instance:Instance", stack)), None)


def _subnet_group(ctx: Context, type_: str, name: str) -> tuple[str, ...]:
    """The subnets of the subnet group (RDS or ElastiCache) a data store names."""
    group = next((g for g in ctx.plans.of_type(type_) if g.get("name") == name or g.resource.id == name), None)
    return tuple(group.get("subnetIds") or []) if group else ()


def database_endpoint(ctx: Context, found: Found, label: str) -> Endpoint:
    subnets = _subnet_group(ctx, "aws:rds/subnetGroup:SubnetGroup", found.get("dbSubnetGroupName"))
    return Endpoint(label, subnets, tuple(found.get("vpcSecurityGroupIds") or []))


def cache(ctx: Context, stack: str) -> Optional[Found]:
    return next(iter(ctx.plans.of_type("aws:elasticache/replicationGroup:ReplicationGroup", stack)), None)


def cache_endpoint(ctx: Context, found: Found, label: str) -> Endpoint:
    subnets = _subnet_group(ctx, "aws:elasticache/subnetGroup:SubnetGroup", found.get("subnetGroupName"))
    return Endpoint(label, subnets, tuple(found.get("securityGroupIds") or []))


def service_account_role(ctx: Context, stack: str, namespace: str, name: str) -> str:
    """The IAM role a Kubernetes service account is annotated with ('' when none)."""
    for account in ctx.plans.of_type("kubernetes:core/v1:ServiceAccount", stack):
        meta = account.get("metadata") or {}
        if meta.get("name") == name and (meta.get("namespace") or "default") == namespace:
            return str((meta.get("annotations") or {}).get("eks.amazonaws.com/role-arn", ""))
    return ""


def secret_store_account(ctx: Context, stack: str, namespace: str) -> str:
    """The service account the External Secrets store of the app's namespace signs in as."""
    for store in ctx.plans.of_type("kubernetes:external-secrets.io/v1:SecretStore", stack):
        meta = store.get("metadata") or {}
        if (meta.get("namespace") or "default") == namespace:
            aws = ((store.get("spec") or {}).get("provider") or {}).get("aws") or {}
            return str((((aws.get("auth") or {}).get("jwt") or {}).get("serviceAccountRef") or {}).get("name", ""))
    return ""


def app_secret_arns(ctx: Context, stack: str) -> list[str]:
    """The secrets the app's ExternalSecrets read, in order, without repeats."""
    arns: list[str] = []
    for external in ctx.plans.of_type("kubernetes:external-secrets.io/v1:ExternalSecret", stack):
        for item in (external.get("spec") or {}).get("data") or []:
            key = str((item.get("remoteRef") or {}).get("key", ""))
            if key and key not in arns:
                arns.append(key)
    return arns
