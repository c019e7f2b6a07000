"""A stack's plan as the operational tools read it: from the offline engine in this
process, or from a file `python -m infra.cli plan --all --out plan` wrote (the shape of
`pulumi stack export`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from infra.domain.jsonfile import JsonFileError, read_json
from infra.domain.platform import PlatformError

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass(frozen=True)
class PlanView:
    stack: str
    outputs: dict[str, Any]
    resources: tuple[PlannedResource, ...]

    def find(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    @classmethod
    def of(cls, plan) -> "PlanView":
        """From an engine `StackPlan`."""
        return cls(plan.stack, plan.outputs, tuple(PlannedResource(r.type, r.name, r.id, r.inputs, r.outputs)
                                                   for r in plan.resources))

    @classmethod
    def from_export(cls, stack: str, data: dict[str, Any]) -> "PlanView":
        try:
            resources = data["deployment"]["resources"]
        except (KeyError, TypeError):
            raise PlatformError(f"{stack}: not a plan export (no deployment.resources)") from None
        root = next((r for r in resources if r.get("type") == STACK_TYPE), None)
        if root is None:
            raise PlatformError(f"{stack}: the plan export has no stack resource (and so no outputs)")
        return cls(stack, dict(root.get("outputs") or {}), tuple(
            PlannedResource(r["type"], r["urn"].rsplit("::", 1)[-1], r.get("id", ""), r.get("inputs") or {},
                            r.get("outputs") or {}) for r in resources if r.get("custom")))


def read_plan_dir(directory: Path, stacks: Iterable[str]) -> list[PlanView]:
    views = []
    for stack in stacks:
        path = directory / f"{stack}.json"
        try:
            data = read_json(path)
        except JsonFileError as exc:
            if exc.missing:
                raise PlatformError(f"{path}: missing; write the plans with `python -m infra.cli plan --all --out "
                                    f"{directory}`") from None
            raise PlatformError(f"{path}: not readable as JSON ({exc.cause})") from None
        views.append(PlanView.from_export(stack, data))
    return views
