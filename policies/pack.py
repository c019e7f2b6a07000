"""The pack: every policy, its name and default enforcement level, and the pack config
resolved the way the Pulumi CLI resolves `--policy-pack-config` before it configures a pack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from pulumi_policy import EnforcementLevel, Policy

from infra.domain.jsonfile import JsonFileError, read_json
from policies.rules import (cache, cdn, database, dns, flows, keys_secrets, kubernetes, logging_audit, network,
                            resilience)

PACK_NAME = "hse-platform"
DEFAULT_LEVEL = EnforcementLevel.ADVISORY
"""The pack-wide level of a policy that names none (every policy here names its own)."""
DOMAINS = (network, database, cache, cdn, dns, kubernetes, keys_secrets, logging_audit, resilience, flows)
POLICIES: list[Policy] = [p for module in DOMAINS for p in module.POLICIES]
LEVELS = {level.value: level for level in EnforcementLevel}


class PackConfigError(ValueError):
    """A pack config file that cannot be used."""


@dataclass(frozen=True)
class Resolved:
    level: EnforcementLevel
    properties: dict[str, Any]


def _split(value: Any, where: str) -> tuple[Optional[EnforcementLevel], dict[str, Any]]:
    if isinstance(value, str):
        value = {"enforcementLevel": value}
    if not isinstance(value, dict):
        raise PackConfigError(f"{where}: expected an enforcement level or an object")
    props = {k: v for k, v in value.items() if k != "enforcementLevel"}
    raw = value.get("enforcementLevel")
    if raw is None:
        return None, props
    if raw not in LEVELS:
        raise PackConfigError(f"{where}: unknown enforcement level {raw!r}; valid: {', '.join(LEVELS)}")
    return LEVELS[raw], props


def resolve(config: Optional[Mapping[str, Any]] = None, policies: Optional[list[Policy]] = None) -> dict[str, Resolved]:
    """Each policy's level and properties: its own level (or the pack's), schema defaults,
    then the config's `all` level, then the config's entry for the policy."""
    config = dict(config or {})
    policies = POLICIES if policies is None else policies
    names = {p.name for p in policies}
    unknown = sorted(k for k in config if k != "all" and k not in names)
    if unknown:
        raise PackConfigError(f"unknown policy {unknown[0]!r} in the pack config")
    all_level, _ = _split(config["all"], "all") if "all" in config else (None, {})
    out = {}
    for policy in policies:
        level = policy.enforcement_level or DEFAULT_LEVEL
        props = {k: v["default"] for k, v in (policy.config_schema.properties.items() if policy.config_schema else ())
                 if "default" in v}
        level = all_level or level
        if policy.name in config:
            own_level, own_props = _split(config[policy.name], policy.name)
            level = own_level or level
            props.update(own_props)
        out[policy.name] = Resolved(level, props)
    return out


def load_config(path: Optional[Path]) -> dict[str, Any]:
    """A `--policy-pack-config` JSON file, or {} without one."""
    if path is None:
        return {}
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise PackConfigError(f"cannot read pack config {path}: {exc.reason}" if exc.unreadable
                              else f"pack config {path} is not JSON: {exc.reason}") from None
    if not isinstance(data, dict):
        raise PackConfigError(f"pack config {path} must be a JSON object")
    return data


def tag_values(policy: Policy, prefix: str) -> list[str]:
    return [tag.split(":", 1)[1] for tag in (policy.tags or []) if tag.startswith(prefix + ":")]
