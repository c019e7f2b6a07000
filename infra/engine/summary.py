"""What a plan says in figures and plain values: resource counts, regions, the outputs with
stand-ins marked, short type names, money. The terminal renderer and the report both read
a plan through these."""

from __future__ import annotations

from collections import Counter
from typing import Any

from infra.engine.diff import show
from infra.engine.plan import COMPUTED, STACK_TYPE, StackPlan, redact

# Outputs that echo what the program already knows at preview (its provider's region,
# the account from the caller identity, the merged tags), never stand-ins.
_KNOWN_ECHOES = frozenset({"region", "ownerId", "tagsAll"})


def short_type(type_: str) -> str:
    """`aws:ec2/vpc:Vpc` -> `aws.ec2.Vpc`; `pulumi:providers:aws` -> `aws provider`."""
    parts = type_.split(":")
    if len(parts) != 3:
        return type_
    package, module, name = parts
    if package == "pulumi":
        return f"{name} provider" if module == "providers" else name
    module = module.split("/")[0]
    return f"{package}.{name}" if module == "index" else f"{package}.{module}.{name}"


def short_name(name: str, parent_name: str) -> str:
    """A child's name without its parent's prefix: `hse-us-east-vpc` under `hse-us-east` -> `vpc`."""
    return name[len(parent_name) + 1:] if parent_name and name.startswith(parent_name + "-") else name


def counts(plan: StackPlan) -> dict[str, int]:
    """The plan's resources by kind; the kinds add up to `total` (the stack itself not counted)."""
    resources = [r for r in plan.resources if r.type != STACK_TYPE]
    kinds = Counter("provider" if r.type.startswith("pulumi:providers:") else "read" if r.external
                    else "cloud" if r.custom else "component" for r in resources)
    return {"total": len(resources), "cloud": kinds["cloud"], "components": kinds["component"],
            "providers": kinds["provider"], "reads": kinds["read"]}


def regions(plan: StackPlan) -> dict[str, int]:
    """Cloud resources by the region of the provider they go through."""
    def where(provider) -> str:
        # Resources of region-less providers (random) are counted under the provider's package.
        return provider.input("region") or provider.type.rsplit(":", 1)[-1]

    found = Counter(where(plan.get(r.provider_urn)) for r in plan.managed() if r.custom and r.provider_urn)
    return dict(sorted(found.items()))


def money(usd: float) -> str:
    return f"${usd:,.0f}"


def computed_values(plan: StackPlan) -> set[str]:
    """Strings the offline cloud made up: resource ids and outputs that were not inputs."""
    values: set[str] = set()
    # The account is known before deploy (the caller's identity); some resources echo it.
    known = {plan.outputs.get("accountId")}
    for r in plan.resources:
        if not r.custom or r.external or r.type.startswith("pulumi:"):
            continue
        given = {v for v in r.inputs.values() if isinstance(v, str)}
        if r.id and r.id not in given:
            values.add(r.id)  # an id the program chose itself (a user group's) is known before deploy
        for key, value in r.outputs.items():
            # An output that repeats an input (a record's fqdn is its name) is known before deploy.
            if isinstance(value, str) and key not in _KNOWN_ECHOES and value not in given:
                values.add(value)
    return values - known


def output_value(value: Any, computed: set[str]) -> Any:
    """A stack output as the plan shows it: secrets redacted, cloud-computed parts marked."""
    value = show(redact(value))
    if isinstance(value, str):
        # Computed itself, or built from a computed value (a replica's ARN from its primary's).
        derived = len(value) >= 12 and any(len(c) >= 12 and c in value for c in computed)
        return COMPUTED if value in computed or derived else value
    if isinstance(value, list):
        return [output_value(v, computed) for v in value]
    if isinstance(value, dict):
        return {k: output_value(v, computed) for k, v in value.items()}
    return value


def plan_outputs(plan: StackPlan) -> dict[str, Any]:
    computed = computed_values(plan)
    return {k: output_value(v, computed) for k, v in sorted(plan.root.outputs.items())}
