"""What a plan says in figures and plain values: resource counts, regions, the outputs with
stand-ins marked, short type names, money. The terminal renderer and the report both read
a plan through these."""

from __future__ import annotations

from collections import Counter
from typing import Any

from infra.engine.plan import COMPUTED, STACK_TYPE, StackPlan, redact, show



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
    """Whole dollars; a charge under one dollar keeps its cents (never shown as $0)."""
    return f"${usd:,.2f}" if 0 < abs(usd) < 1 else f"${usd:,.0f}"


def computed_values(plan: StackPlan) -> set[str]:
    """Strings the offline cloud made up, this stack's and those read from earlier stacks."""
    return set(plan.stand_ins) - {plan.outputs.get("accountId")}


def output_value(value: Any, computed: set[str]) -> Any:
    """A stack output as the plan shows it: secrets redacted, cloud-computed parts marked."""
    return mark_stand_ins(show(redact(value)), computed)


def mark_stand_ins(value: Any, computed: set[str]) -> Any:
    """A shown value with every stand-in, or string built from one (a replica's ARN from
    its primary's), replaced by `(known after deploy)`."""
    if isinstance(value, str):
        derived = len(value) >= 12 and any(len(c) >= 12 and c in value for c in computed)
        return COMPUTED if value in computed or derived else value
    if isinstance(value, list):
        return [mark_stand_ins(v, computed) for v in value]
    if isinstance(value, dict):
        return {k: mark_stand_ins(v, computed) for k, v in value.items()}
    return value


def plan_outputs(plan: StackPlan) -> dict[str, Any]:
    computed = computed_values(plan)
    return {k: output_value(v, computed) for k, v in sorted(plan.root.outputs.items())}
