"""One stack's config: the model that gathers every section, and the parsing of a stack
file's flat `hse:` keys into it, with every problem named by file and key.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
from typing import Any, ClassVar, Literal, Optional

from pydantic import Field, ValidationError

from infra.domain import topology
from infra.domain.problems import Problem
from infra.config.stackfiles import StackFile
from infra.config.base import LOG_RETENTION_DAYS, NAMESPACE, OTHER_NAMESPACES, STACK_NAME, Section
from infra.config.network import NetworkConfig
from infra.config.workloads import AppConfig, ClusterConfig, check_workloads
from infra.config.observability import ObservabilityConfig
from infra.config.database import DatabaseConfig, check_database
from infra.config.cache import CacheConfig, check_cache
from infra.config.edge import EdgeConfig, check_edge



class StackConfig(Section):
    """Everything one stack deploys from. Sections are one model per tier."""

    SECTIONS: ClassVar[dict[str, type[Section]]] = {"network": NetworkConfig, "app": AppConfig,
                                                     "cluster": ClusterConfig, "database": DatabaseConfig,
                                                     "cache": CacheConfig, "edge": EdgeConfig,
                                                     "observability": ObservabilityConfig}

    stack: str = Field(exclude=True)
    file: str = Field(exclude=True)
    explicit_keys: frozenset[str] = Field(frozenset(), exclude=True)
    """Keys the stack file sets itself (not from a Pulumi.yaml default)."""
    role: Literal["primary", "secondary"] = Field(
        alias="role", description="primary (read-write database, global resources) or secondary (read replica).")
    aws_region: str = Field(alias="awsRegion", description="The AWS region the stack deploys to, e.g. us-east-1.")
    environment: str = Field("production", alias="environment", pattern=r"^[a-z][a-z0-9-]{1,11}$",
                             description="Environment name used in tags and physical names, 2 to 12 lowercase characters, e.g. production or staging.")
    cost_center: str = Field("hse-platform", alias="costCenter", min_length=1,
                             description="Cost center written to every resource's cost-center tag.")
    deploy_order: int = Field(alias="deployOrder", ge=0,
                              description="Position in the rolling deploy order; the primary is first (0).")
    peers: list[str] = Field(default_factory=list, alias="peers",
                             description="Stacks, deployed earlier, whose VPCs this stack peers with.")
    network: NetworkConfig
    app: AppConfig
    cluster: ClusterConfig
    database: DatabaseConfig
    cache: CacheConfig
    edge: EdgeConfig
    observability: ObservabilityConfig

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @classmethod
    def secret_keys(cls) -> frozenset[str]:
        """Keys that may hold a secret (`pulumi config set --secret`): fields marked `secret`."""
        return frozenset(key for key, (_, _, info) in cls.keys().items()
                         if (info.json_schema_extra or {}).get("secret"))

    @classmethod
    def keys(cls) -> dict[str, tuple[Optional[str], str, Any]]:
        """Every flat key: `hse:<alias>` -> (section or None, field name, field info)."""
        out: dict[str, tuple[Optional[str], str, Any]] = {}
        for name, info in cls.model_fields.items():
            if name in cls.SECTIONS or info.exclude:
                continue
            out[f"{NAMESPACE}:{info.alias}"] = (None, name, info)
        for section, model in cls.SECTIONS.items():
            for name, info in model.model_fields.items():
                out[f"{NAMESPACE}:{info.alias}"] = (section, name, info)
        return out


def _decode(value: str) -> Any:
    text = value.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def _valid_hint(info: Any) -> str:
    return f"valid: {info.description}" if info.description else ""


def parse_stack(stack_file: StackFile) -> tuple[Optional[StackConfig], list[Problem]]:
    """Validate one stack's own values (not yet against the other stacks)."""
    file = stack_file.file_name
    keys = StackConfig.keys()
    top: dict[str, Any] = {"stack": stack_file.stack, "file": file, "explicit_keys": frozenset(stack_file.values)}
    sections: dict[str, dict[str, Any]] = {s: {} for s in StackConfig.SECTIONS}
    problems: list[Problem] = []
    if not STACK_NAME.match(stack_file.stack):
        # The stack name is part of physical names (vaults, cache users, identifiers) that AWS limits.
        problems.append(Problem(file, "", f"stack name {stack_file.stack!r} cannot be part of AWS names; valid: "
                                          "2 to 20 lowercase letters, digits and hyphens, starting with a letter "
                                          "(rename the file, e.g. Pulumi.au.yaml)"))
    for key, raw in sorted(stack_file.config.items()):
        namespace = key.split(":", 1)[0]
        if namespace in OTHER_NAMESPACES:
            continue  # provider and pulumi: keys belong to their own owners
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean {close[0]}?" if close else "valid keys are listed in Pulumi.yaml"
            if namespace != NAMESPACE:
                problems.append(Problem(file, key, f"unknown namespace {namespace!r}, so nothing reads this key; {hint} "
                                                   f"(namespaces: {', '.join((NAMESPACE, *OTHER_NAMESPACES))})"))
            else:
                problems.append(Problem(file, key, f"unknown key; {hint}"))
            continue
        if key in stack_file.secret_keys and key not in StackConfig.secret_keys():
            problems.append(Problem(file, key, "is encrypted (secure:) but is not a secret: it is written in clear "
                                               "into names and tags; set it with `pulumi config set` without --secret"))
            continue
        section, _, info = keys[key]
        target = top if section is None else sections[section]
        target[info.alias] = _decode(raw)
    try:
        config = StackConfig.model_validate({**top, **sections})
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            key, info = _key_of(loc)
            if error["type"] == "missing":
                message = f"is required; {_valid_hint(info)}" if info else "is required"
            else:
                got = error.get("input")
                message = f"{error['msg']} (got {got!r}); {_valid_hint(info)}" if info else error["msg"]
            problems.append(Problem(file, key, message))
        return None, problems
    problems.extend(_check_values(config))
    return (config if not problems else None), problems


def _key_of(loc: list[str]) -> tuple[str, Any]:
    """Map a pydantic error location back to the flat key and its field."""
    keys = StackConfig.keys()
    for part in loc:
        key = f"{NAMESPACE}:{part}"
        if key in keys:
            return key, keys[key][2]
    if loc and loc[0] in StackConfig.SECTIONS and len(loc) == 1:
        return f"{NAMESPACE}:<{loc[0]}>", None
    return f"{NAMESPACE}:{'.'.join(loc)}", None


def _check_values(cfg: StackConfig) -> list[Problem]:
    """Checks that need more than one field or the region table."""
    f = cfg.file
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(f, f"{NAMESPACE}:{key}", message))

    region = topology.REGIONS.get(cfg.aws_region)
    if region is None:
        close = difflib.get_close_matches(cfg.aws_region, topology.REGIONS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        bad("awsRegion", f"{cfg.aws_region!r} is not an AWS region{hint}; "
                         f"valid: {', '.join(sorted(topology.REGIONS))}")

    net = cfg.network
    try:
        network = ipaddress.IPv4Network(net.vpc_cidr, strict=True)
    except ValueError as exc:
        bad("vpcCidr", f"{net.vpc_cidr!r} is not a valid IPv4 network ({exc}); "
                       "expected a private network with host bits zero, /16 to /20, e.g. 10.0.0.0/16")
    else:
        if not (16 <= network.prefixlen <= 20):
            bad("vpcCidr", f"{net.vpc_cidr} is a /{network.prefixlen}; AWS VPCs here must be /16 to /20")
        elif not network.is_private or network.subnet_of(ipaddress.IPv4Network("100.64.0.0/10")):
            bad("vpcCidr", f"{net.vpc_cidr} is not in a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")

    zones = net.availability_zones
    if len(zones) != 3 or len(set(zones)) != 3:
        bad("availabilityZones", f"{zones} must list 3 distinct availability zones")
    if region is not None:
        foreign = [z for z in zones if z not in region.availability_zones]
        if foreign:
            bad("availabilityZones", f"{', '.join(foreign)} not in {region.name}; "
                                     f"valid: {', '.join(region.availability_zones)}")
    if not (1 <= net.nat_gateway_count <= len(zones)):
        bad("natGatewayCount", f"{net.nat_gateway_count} is out of range; expected 1 to {len(zones)} (one per AZ at most)")
    if net.flow_log_retention_days not in LOG_RETENTION_DAYS:
        bad("flowLogRetentionDays", f"{net.flow_log_retention_days} is not a CloudWatch Logs retention period; "
                                    f"valid: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    if cfg.app.instance_count < 1:
        bad("appInstanceCount", f"{cfg.app.instance_count} is below 1; a region runs at least one application instance")
    if not (1024 <= cfg.app.port <= 65535):
        bad("appPort", f"{cfg.app.port} is out of range; expected an unprivileged port, 1024 to 65535")
    problems.extend(check_database(cfg))
    problems.extend(check_cache(cfg))
    problems.extend(check_edge(cfg))
    problems.extend(check_workloads(cfg))
    return problems
