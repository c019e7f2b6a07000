"""Plans to break: a deep copy of the session's plans per test, and edits that name
resources by their logical names (stable across runs)."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import pytest

from infra.engine.plan import Resource, StackPlan
from infra.flows import verify

ORDER = ("us-east", "eu-west", "ap-se")


class Editable:
    """The three stacks' plans, copied, with the edits a breaking test makes."""

    def __init__(self, plans: dict[str, StackPlan]):
        self.plans = {name: copy.deepcopy(plan) for name, plan in plans.items()}

    def all(self) -> list[StackPlan]:
        return [self.plans[s] for s in ORDER if s in self.plans]

    def find(self, stack: str, name: str) -> Resource:
        found = [r for r in self.plans[stack].resources if r.name == name]
        assert len(found) == 1, f"{len(found)} resources named {name} in {stack}"
        return found[0]

    def of_type(self, stack: str, type_: str) -> list[Resource]:
        return [r for r in self.plans[stack].resources if r.type == type_]

    def remove(self, stack: str, name: str) -> None:
        resource = self.find(stack, name)
        self.plans[stack].resources.remove(resource)
        self.plans[stack].__post_init__()

    def add(self, stack: str, resource: Resource) -> None:
        self.plans[stack].resources.append(resource)
        self.plans[stack].__post_init__()

    def clone(self, stack: str, name: str, **props: Any) -> Resource:
        """A copy of a resource, added to the stack as `<name>-other`, with `props` changed."""
        other = copy.deepcopy(self.find(stack, name))
        other.urn, other.name = other.urn + "-other", other.name + "-other"
        for key, value in props.items():
            self.set(other, key, value)
        self.add(stack, other)
        return other

    def set(self, resource: Resource, key: str, value: Any) -> None:
        """Set a property where the verifier reads it (outputs over inputs)."""
        for props in (resource.inputs, resource.outputs):
            props[key] = value

    def edit_json(self, resource: Resource, key: str, change: Callable[[dict], None]) -> None:
        """Change a JSON-document property (a policy) in place."""
        document = json.loads(resource.outputs.get(key) or resource.inputs[key])
        change(document)
        self.set(resource, key, json.dumps(document))

    def verdict(self, stack: str, flow: str):
        results = verify(self.all(), stacks=[stack], flows=[flow])
        assert len(results) == 1
        return results[0]


@pytest.fixture
def broken(plans) -> Editable:
    return Editable(plans)
