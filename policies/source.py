"""Where the runner's stacks come from: the offline engine, or a plan file (the plan
command's `--out` or a `pulumi stack export`) read without evaluating the program."""

from __future__ import annotations

from pathlib import Path

from typing import Any

from infra.domain.jsonfile import JsonFileError, read_json
from infra.engine.plan import REDACTED, SECRET_SIG, SIG_KEY, STACK_TYPE, Resource, StackPlan


class PlanFileError(ValueError):
    """A plan file that cannot be read as a stack export."""


def _sealed(value: Any) -> Any:
    """An export's secrets (ciphertext, no value) as secrets whose value reads as redacted."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG and "value" not in value:
            return {SIG_KEY: SECRET_SIG, "value": REDACTED}
        return {k: _sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sealed(v) for v in value]
    return value


def load_export(path: Path) -> StackPlan:
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.reason}" if exc.unreadable
                            else f"plan file {path} is not JSON: {exc.reason}") from None
    resources = data.get("deployment", {}).get("resources") if isinstance(data, dict) else None
    if not isinstance(resources, list):
        raise PlanFileError(f"plan file {path} is not a stack export (no deployment.resources)")
    records = []
    for raw in resources:
        urn = raw.get("urn", "") if isinstance(raw, dict) else ""
        if not urn.startswith("urn:pulumi:") or "type" not in raw:
            raise PlanFileError(f"plan file {path} holds a resource without a URN or type")
        records.append(Resource(
            urn=urn, type=raw["type"], name=urn.rsplit("::", 1)[-1], custom=bool(raw.get("custom")),
            id=raw.get("id", ""), parent=raw.get("parent", ""), provider=raw.get("provider", ""),
            inputs=_sealed(raw.get("inputs") or {}), outputs=_sealed(raw.get("outputs") or {}),
            dependencies=list(raw.get("dependencies") or []),
            property_dependencies={k: list(v) for k, v in (raw.get("propertyDependencies") or {}).items()},
            external=bool(raw.get("external")), protect=bool(raw.get("protect"))))
    roots = [r for r in records if r.type == STACK_TYPE]
    if not roots:
        raise PlanFileError(f"plan file {path} has no {STACK_TYPE} resource")
    # urn:pulumi:<stack>::<project>::...
    stack, project = roots[0].urn.split(":", 2)[2].split("::")[:2]
    return StackPlan(project, stack, records)
