"""The recorded plans of every stack, indexed for the flow verifier.

Stacks reference one another by physical ids and ARNs (a later stack declares routes in
the primary's route tables, reads its VPC id and secrets), so the verifier looks
resources up across all plans at once: by type, by id, by a property value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from infra.engine.plan import Resource, StackPlan, reveal


@dataclass(frozen=True)
class Found:
    """A resource and the stack whose plan declares it."""

    stack: str
    resource: Resource

    @property
    def name(self) -> str:
        return self.resource.name

    def get(self, key: str, default: Any = None) -> Any:
        """A property as the engine recorded it (outputs over inputs), secrets revealed."""
        props = self.resource.outputs if key in self.resource.outputs else self.resource.inputs
        value = props.get(key, default)
        return reveal(value) if value is not None else default


class PlanSet:
    """The plans of the stacks being verified, in deploy order."""

    def __init__(self, plans: Sequence[StackPlan], *, complete: bool = True) -> None:
        if not plans:
            raise ValueError("the flow verifier needs the plan of at least one stack")
        self.plans = list(plans)
        self.complete = complete
        """Whether every stack of the project is among `plans` (else a subject missing from
        the plans may live in a stack not loaded, and its hop is unknown, not blocked)."""
        self._by_stack = {p.stack: p for p in self.plans}
        self._by_type: dict[str, list[Found]] = {}
        self._by_id: dict[str, list[Found]] = {}
        for plan in self.plans:
            for resource in plan:
                found = Found(plan.stack, resource)
                self._by_type.setdefault(resource.type, []).append(found)
                if resource.custom and resource.id:
                    self._by_id.setdefault(resource.id, []).append(found)

    @property
    def stacks(self) -> list[str]:
        return [p.stack for p in self.plans]

    def has(self, stack: str) -> bool:
        return stack in self._by_stack

    def outputs(self, stack: str) -> dict[str, Any]:
        return self._by_stack[stack].outputs

    def primary(self) -> str:
        """The stack whose plan says it is the primary (the first one when none does)."""
        for plan in self.plans:
            if plan.outputs.get("role") == "primary":
                return plan.stack
        return self.plans[0].stack

    def of_type(self, type_: str, stack: Optional[str] = None) -> list[Found]:
        return [f for f in self._by_type.get(type_, []) if stack is None or f.stack == stack]

    def by_id(self, id_: str, type_: Optional[str] = None) -> list[Found]:
        return [f for f in self._by_id.get(id_, []) if type_ is None or f.resource.type == type_]

    def where(self, type_: str, key: str, value: Any) -> list[Found]:
        """Resources of a type whose property `key` equals `value`."""
        return [f for f in self.of_type(type_) if f.get(key) == value]

    def named(self, type_: str, stack: str, suffix: str) -> Optional[Found]:
        """The resource of a type in a stack whose logical name ends with `suffix`."""
        for found in self.of_type(type_, stack):
            if found.name.endswith(suffix):
                return found
        return None

    def __iter__(self) -> Iterator[Found]:
        for plan in self.plans:
            for resource in plan:
                yield Found(plan.stack, resource)
