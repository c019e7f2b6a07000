"""Running one policy on hand-made fixtures, with the arguments pulumi_policy builds (no program evaluated)."""

from __future__ import annotations

from typing import Any, Optional

from pulumi_policy import (PolicyCustomTimeouts, PolicyProviderResource, PolicyResource, PolicyResourceOptions,
                           ResourceValidationArgs, StackValidationArgs)

from policies.pack import POLICIES, resolve

BY_NAME = {p.name: p for p in POLICIES}
DEFAULTS = resolve()


def provider(region: str = "us-east-1") -> PolicyProviderResource:
    urn = f"urn:pulumi:test::hse::pulumi:providers:aws::aws-{region}"
    return PolicyProviderResource("pulumi:providers:aws", {"region": region}, urn, f"aws-{region}")


def opts(ignore_changes: Optional[list[str]] = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, list(ignore_changes or []), None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def run_resource(policy: str, type_: str, props: dict[str, Any], *, ignore_changes=None, region="us-east-1",
                 config: Optional[dict] = None) -> list[str]:
    """The messages `policy` reports for one resource."""
    messages: list[str] = []
    settings = {**DEFAULTS[policy].properties, **(config or {})}
    args = ResourceValidationArgs(type_, props, f"urn:pulumi:test::hse::{type_}::r", "r", opts(ignore_changes),
                                  provider(region), settings)
    BY_NAME[policy].validate(args, lambda message, urn=None: messages.append(message))
    return messages


def resource(type_: str, name: str, props: dict[str, Any], *, region="us-east-1", ignore_changes=None) -> PolicyResource:
    return PolicyResource(type_, props, f"urn:pulumi:test::hse::{type_}::{name}", name, opts(ignore_changes),
                          provider(region) if region else None, None, [], {})


def run_stack(policy: str, resources: list[PolicyResource], config: Optional[dict] = None) -> list[tuple[str, str]]:
    """(message, resource name or '') pairs `policy` reports for a stack of resources."""
    found: list[tuple[str, str]] = []
    settings = {**DEFAULTS[policy].properties, **(config or {})}
    BY_NAME[policy].validate(StackValidationArgs(resources, settings),
                             lambda message, urn=None: found.append((message, (urn or "").rsplit("::", 1)[-1])))
    return found


def changed(props: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `props` with keys set (or, with None, removed)."""
    out = dict(props)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
