"""What changed between two plans of a stack: the review view `pulumi preview` gives,
computed offline from two stack exports (for example main's plan and a branch's).

Resources are matched by URN. A URN only in the new plan is a create, only in the old
one a delete; a resource in both whose inputs (or parent, provider, protection)
differ is an update, with each changed property listed as `path: old -> new`. Both
sides are compared as exported, secrets redacted, so a secret shows as `[secret]` and
its value never enters the comparison or the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from infra.engine.plan import SECRET_SIG, SIG_KEY, STACK_TYPE

SECRET_TEXT = "[secret]"
ABSENT = object()
# Besides its inputs, what a resource is bound to: a change in any of these is an update,
# shown as `(provider)` etc. so that it cannot be mistaken for an input.
_BINDINGS = ("parent", "provider", "protect")


@dataclass(frozen=True)
class Change:
    """One property that differs; `old`/`new` are ABSENT where the property is not set."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    changes: tuple[Change, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class StackDiff:
    """The difference between an earlier and this plan of one stack."""

    stack: str
    creates: list[ResourceChange] = field(default_factory=list)
    updates: list[ResourceChange] = field(default_factory=list)
    deletes: list[ResourceChange] = field(default_factory=list)
    unchanged: int = 0
    outputs: list[Change] = field(default_factory=list)
    baseline: bool = True
    """False when there was no earlier plan of the stack (everything is a create)."""

    @property
    def changed(self) -> bool:
        return bool(self.creates or self.updates or self.deletes or self.outputs)

    def totals(self) -> str:
        return (f"{self.stack}: +{len(self.creates)} to create, ~{len(self.updates)} to update, "
                f"-{len(self.deletes)} to delete, {self.unchanged} unchanged")

    def to_json(self) -> dict[str, Any]:
        def changes(items: tuple[Change, ...] | list[Change]) -> list[dict[str, Any]]:
            return [{"path": c.path, **({"old": c.old} if c.old is not ABSENT else {}),
                     **({"new": c.new} if c.new is not ABSENT else {})} for c in items]

        return {
            "stack": self.stack,
            "baseline": self.baseline,
            "create": [{"urn": r.urn, "type": r.type} for r in self.creates],
            "update": [{"urn": r.urn, "type": r.type, "changes": changes(r.changes)} for r in self.updates],
            "delete": [{"urn": r.urn, "type": r.type} for r in self.deletes],
            "unchanged": self.unchanged,
            "outputs": changes(self.outputs),
        }


def show(value: Any) -> Any:
    """A value as the diff shows it: every secret envelope replaced by `[secret]`."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return SECRET_TEXT
        return {k: show(v) for k, v in value.items()}
    if isinstance(value, list):
        return [show(v) for v in value]
    return value


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Flatten maps into dotted paths; lists and scalars (and secrets) are leaves."""
    if isinstance(value, dict) and value and value.get(SIG_KEY) != SECRET_SIG:
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}.{key}" if path else key)
    else:
        yield path, show(value)


def property_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every leaf property that differs between two property maps, sorted by path."""
    before, after = dict(_leaves(old, "")), dict(_leaves(new, ""))
    return [Change(path, before.get(path, ABSENT), after.get(path, ABSENT))
            for path in sorted(set(before) | set(after))
            if before.get(path, ABSENT) != after.get(path, ABSENT)]


def _resources(export: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The resources of an export by URN (without the stack itself), and the stack's outputs."""
    resources = export.get("deployment", {}).get("resources") or []
    by_urn = {r["urn"]: r for r in resources if r.get("type") != STACK_TYPE}
    root = next((r for r in resources if r.get("type") == STACK_TYPE), {})
    return by_urn, root.get("outputs") or {}


def diff_exports(stack: str, old: dict[str, Any] | None, new: dict[str, Any]) -> StackDiff:
    """The changes from the `old` export (None: no earlier plan) to the `new` one."""
    new_resources, new_outputs = _resources(new)
    if old is None:
        return StackDiff(stack, creates=[ResourceChange(u, r["type"]) for u, r in new_resources.items()],
                         outputs=property_changes({}, new_outputs), baseline=False)
    old_resources, old_outputs = _resources(old)
    result = StackDiff(stack, outputs=property_changes(old_outputs, new_outputs))
    for urn, resource in new_resources.items():
        before = old_resources.get(urn)
        if before is None:
            result.creates.append(ResourceChange(urn, resource["type"]))
            continue
        changes = property_changes(before.get("inputs") or {}, resource.get("inputs") or {}) + [
            Change(f"({key})", before.get(key, ABSENT), resource.get(key, ABSENT))
            for key in _BINDINGS if before.get(key, ABSENT) != resource.get(key, ABSENT)]
        if changes:
            result.updates.append(ResourceChange(urn, resource["type"], tuple(changes)))
        else:
            result.unchanged += 1
    result.deletes = [ResourceChange(u, r["type"]) for u, r in old_resources.items() if u not in new_resources]
    return result


def deleted_stack(stack: str, old: dict[str, Any]) -> StackDiff:
    """A stack that was planned before and has no stack file now: all of it goes."""
    resources, outputs = _resources(old)
    return StackDiff(stack, deletes=[ResourceChange(u, r["type"]) for u, r in resources.items()],
                     outputs=property_changes(outputs, {}))
