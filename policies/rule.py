"""How a rule is declared, and the helpers every rule module shares.

A rule is one validator function with pulumi_policy's signature, `(args, report_violation)`,
wrapped in one `ResourceValidationPolicy` or `StackValidationPolicy`. The same function
runs under `pulumi preview --policy-pack policies` and in the offline runner, which builds
its arguments the way pulumi_policy does (see `policies/runner.py`). Each policy carries
its domain and the checkov check it matches as tags, so the docs and the SARIF report
read them from the policy itself.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

import pulumi
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy,
                           StackValidationArgs, StackValidationPolicy)

from policies import types as t

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
READS_OPTIONS = "reads-resource-options"
"""Tag of rules that read resource options (ignoreChanges), which a stack export does not hold."""

ReportViolation = Callable[..., None]


def _tags(domain: str, checkov: Iterable[str], reads_options: bool) -> list[str]:
    return [f"domain:{domain}", *(f"checkov:{c}" for c in checkov), *([READS_OPTIONS] if reads_options else [])]


def _schema(config: Optional[Mapping[str, Mapping[str, Any]]]) -> Optional[PolicyConfigSchema]:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in config.items()}) if config else None


def resource_policy(name: str, description: str, validate: Callable, *, level: EnforcementLevel, types: Iterable[str],
                    domain: str, checkov: Iterable[str] = (), config: Optional[Mapping[str, Mapping[str, Any]]] = None,
                    reads_options: bool = False) -> ResourceValidationPolicy:
    """A resource policy running `validate` on resources of `types` only."""
    wanted = frozenset(types)

    def validate_wanted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in wanted:
            validate(args, report_violation)

    validate_wanted.__name__ = validate.__name__
    return ResourceValidationPolicy(name=name, description=description, validate=validate_wanted, enforcement_level=level,
                                    config_schema=_schema(config), tags=_tags(domain, checkov, reads_options))


def stack_policy(name: str, description: str, validate: Callable, *, level: EnforcementLevel, domain: str,
                 checkov: Iterable[str] = (), config: Optional[Mapping[str, Mapping[str, Any]]] = None
                 ) -> StackValidationPolicy:
    return StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level,
                                 config_schema=_schema(config), tags=_tags(domain, checkov, False))


def setting(args: ResourceValidationArgs | StackValidationArgs, key: str, default: Any) -> Any:
    """A policy config value (`--policy-pack-config`), or the default its schema documents."""
    return (args.get_config() or {}).get(key, default)


def dig(value: Any, *path: Any, default: Any = None) -> Any:
    """`value[path[0]][path[1]]...`, or `default` where a step is missing."""
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return default
        if value is None:
            return default
    return value


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def region_of(resource: Any) -> Optional[str]:
    """The region of a resource's explicit AWS provider (every resource here names one)."""
    provider = getattr(resource, "provider", None)
    return dig(provider.props, "region") if provider is not None else None


def arn_region(arn: Any) -> Optional[str]:
    parts = str(arn or "").split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" else None


def of_type(args: StackValidationArgs, *types: str) -> list:
    wanted = set(types)
    return [r for r in args.resources if r.resource_type in wanted]


def stack_outputs(args: StackValidationArgs) -> Mapping[str, Any]:
    """The stack's outputs: the props of its root `pulumi:pulumi:Stack` resource."""
    roots = of_type(args, t.STACK)
    return roots[0].props if roots else {}


def stack_value(args: StackValidationArgs, key: str) -> Any:
    """A stack output, else the stack's `hse:` config (the CLI hands a policy pack the stack's
    config, and the offline runner sets it the same way), else None."""
    value = stack_outputs(args).get(key)
    if value is not None:
        return value
    raw = pulumi.runtime.get_config(f"hse:{key}")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


def global_secondary_ids(args: StackValidationArgs) -> set[str]:
    """URNs of RDS clusters joining a global cluster this stack does not declare (a secondary)."""
    own = {g.props.get("globalClusterIdentifier") for g in of_type(args, t.RDS_GLOBAL_CLUSTER)}
    return {c.urn for c in of_type(args, t.RDS_CLUSTER)
            if c.props.get("globalClusterIdentifier") and c.props.get("globalClusterIdentifier") not in own}
