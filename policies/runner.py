"""Runs the pack over a recorded plan, building each validator's arguments the way
pulumi_policy's analyzer does under `pulumi preview --policy-pack`:

- a resource policy gets `ResourceValidationArgs(type, props, urn, name, opts, provider,
  config, stack_tags)` with the resource's inputs as props (camelCase, secrets revealed,
  as `deserialize_properties` leaves them), its options (protect, ignoreChanges, parent),
  and its provider resource with that provider's inputs;
- a stack policy gets `StackValidationArgs(resources, config)` of `PolicyResource`s whose
  props are the resources' outputs (with `id`, which the providers return among them),
  parents and dependencies linked to the objects;
- each policy's level and config come from `policies.pack.resolve`, as the CLI computes
  them; `disabled` policies do not run, `remediate` is reported as mandatory;
- the stack's config is set in the Pulumi runtime while the policies run, as the CLI
  hands it to a policy pack, in a copied context so nothing leaks out.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from pulumi.runtime.config import set_all_config
from pulumi_policy import (EnforcementLevel, PolicyCustomTimeouts, PolicyProviderResource, PolicyResource,
                           PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs,
                           StackValidationPolicy)
from pulumi_policy.policy import _NotApplicableError

from infra.engine.plan import Resource, StackPlan, reveal
from policies.pack import POLICIES, Resolved, resolve
from policies.rule import READS_OPTIONS
from policies.rules import flows as flow_rules


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    stack: str
    urn: str
    message: str

    @property
    def resource(self) -> str:
        return self.urn.rsplit("::", 1)[-1] if self.urn else "(stack)"


@dataclass
class StackResult:
    stack: str
    resources: int
    findings: list[Finding] = field(default_factory=list)
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory"]


def _level(level: EnforcementLevel) -> str:
    return "mandatory" if level == EnforcementLevel.REMEDIATE else level.value


def _opts(r: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(r.protect, list(r.ignore_changes), r.delete_before_replace or None, [],
                                 PolicyCustomTimeouts(0, 0, 0), [], r.parent or None)


def _run(validate, args, report) -> None:
    result = validate(args, report)
    if inspect.isawaitable(result):
        asyncio.run(result)


class _Stack:
    """One plan's resources, converted once for every policy."""

    def __init__(self, plan: StackPlan):
        self.plan = plan
        self.providers: dict[str, PolicyProviderResource] = {}
        for r in plan.resources:
            if r.type.startswith("pulumi:providers:"):
                self.providers[r.urn] = PolicyProviderResource(r.type, reveal(r.inputs), r.urn, r.name)
        self.inputs = [(r, reveal(r.inputs), _opts(r), self.providers.get(r.provider_urn)) for r in plan.resources]
        by_urn: dict[str, PolicyResource] = {}
        for r, _, opts, provider in self.inputs:
            props = reveal(r.outputs or r.inputs)
            if r.custom and r.id and "id" not in props:
                props = {**props, "id": r.id}
            by_urn[r.urn] = PolicyResource(r.type, props, r.urn, r.name, opts, provider, None, [], {})
        for r in plan.resources:
            res = by_urn[r.urn]
            res.parent = by_urn.get(r.parent)
            res.dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
            res.property_dependencies = {k: [by_urn[d] for d in v if d in by_urn] for k, v in r.property_dependencies.items()}
        self.resources = list(by_urn.values())


def check_plan(plan: StackPlan, config: Optional[Mapping[str, Resolved]] = None, *,
               stack_config: Optional[Mapping[str, Any]] = None, has_options: bool = True,
               policies=None, peers: Sequence[StackPlan] = (), complete: bool = False) -> StackResult:
    """Every enabled policy over one stack's plan.

    `stack_config` is the stack's config as the CLI would pass it (None for a plan file);
    `has_options` is False for a stack export, which holds no resource options: policies
    that read them are then reported as not applicable instead of guessing. `peers` are
    the other stacks' plans for the flow policy (`complete`: with this one, every stack).
    """
    policies = POLICIES if policies is None else policies
    config = config if config is not None else resolve(None, policies)
    result = StackResult(plan.stack, len(plan.resources))

    def run() -> None:
        set_all_config({k: str(v) for k, v in (stack_config or {}).items()}, [])
        flow_rules.PEERS.set((tuple(peers), complete))
        stack = _Stack(plan)
        for policy in policies:
            resolved = config[policy.name]
            if resolved.level == EnforcementLevel.DISABLED:
                continue
            level = _level(resolved.level)
            if not has_options and READS_OPTIONS in (policy.tags or []):
                result.not_applicable[policy.name] = "a stack export holds no resource options (ignoreChanges)"
                continue

            def report(message: str, urn: Optional[str] = None, *, _default: str = "", _policy=policy.name) -> None:
                result.findings.append(Finding(_policy, level, plan.stack, urn or _default, message))

            try:
                if isinstance(policy, ResourceValidationPolicy):
                    for r, props, opts, provider in stack.inputs:
                        args = ResourceValidationArgs(r.type, props, r.urn, r.name, opts, provider,
                                                      dict(resolved.properties), {})
                        # A resource policy's violation is always about the resource it validates.
                        _run(policy.validate, args,
                             lambda message, urn=None, _u=r.urn: report(message, _u))
                elif isinstance(policy, StackValidationPolicy):
                    _run(policy.validate, StackValidationArgs(stack.resources, dict(resolved.properties), {}), report)
            except _NotApplicableError as exc:
                result.not_applicable[policy.name] = exc.reason or "not applicable"

    contextvars.copy_context().run(run)
    return result
