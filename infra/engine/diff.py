"""What changed between two plans of a stack: the review view `pulumi preview --diff`
gives, computed offline from two stack exports (for example main's plan and a branch's).

Resources are matched by URN. A URN only in the new plan is a create, only in the old
one a delete; a resource in both whose inputs (or parent, provider, protection) differ
is an update, or a replacement when a changed input is one the provider cannot change
in place (`infra/engine/replacement.py`: the provider's force-new properties, plus the
resource's `replaceOnChanges`), or when the resource moves to another provider.

Properties are compared element by element, as the real engine shows them: nested
objects by key, lists by index (`rules[1].action`), and a string holding JSON (a policy
document, a DynamoDB item) parsed and compared as JSON (`policy(json).Statement[0]`).
Both sides are compared as exported, secrets redacted, so a secret shows as `[secret]`
and its value never enters the comparison or the output.

What the real engine or AWS would refuse is reported as such (`Refusal`): deleting or
replacing a resource marked `protect` (with Pulumi's own wording), and deleting or
replacing one whose deletion protection is on (AWS refuses the delete, so `pulumi up`
would stop half-way, after the replacement was made). Deleting or replacing a resource
that holds data (`infra/domain/stateful.py`) is listed under `data_loss` whether or not
it is protected: the plan command gates on it unless the reviewer names the resource.
A resource with `retainOnDelete` is only dropped from the stack when deleted or replaced:
no AWS delete, no loss (Pulumi's documented behaviour; `protect` still refuses first).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from infra.domain.stateful import DELETION_GUARDS, STATEFUL_TYPES
from infra.engine.plan import COMPUTED, SECRET_SIG, SIG_KEY, STACK_TYPE, show
from infra.engine.summary import mark_stand_ins, short_type
from infra.engine.replacement import forces_replacement

ABSENT = object()
JSON_MARK = "(json)"
# Besides its inputs, what a resource is bound to: a change in any of these is an update,
# shown as `(provider)` etc. so that it cannot be mistaken for an input.
_BINDINGS = ("parent", "provider", "protect")

CREATE, UPDATE, REPLACE, DELETE = "create", "update", "replace", "delete"


@dataclass(frozen=True)
class Change:
    """One property that differs; `old`/`new` are ABSENT where the property is not set.
    `forces` is the provider's force-new property this change falls under, if any."""

    path: str
    old: Any
    new: Any
    forces: Optional[str] = None

    @property
    def kind(self) -> str:
        return "add" if self.old is ABSENT else "remove" if self.new is ABSENT else "change"


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    changes: tuple[Change, ...] = ()
    delete_before_replace: bool = False
    retained: bool = False
    """A delete or replacement of a resource with `retainOnDelete`: the old one leaves the
    stack and stays in the cloud (the provider's Delete is never called)."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def forced_by(self) -> list[str]:
        """The changed properties that force this replacement (empty for an update)."""
        return [c.path for c in self.changes if c.forces]


@dataclass(frozen=True)
class Refusal:
    """A step the real engine or AWS would refuse: `who` says which."""

    urn: str
    type: str
    step: str
    who: str
    message: str

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class StackDiff:
    """The difference between an earlier and this plan of one stack."""

    stack: str
    creates: list[ResourceChange] = field(default_factory=list)
    updates: list[ResourceChange] = field(default_factory=list)
    replaces: list[ResourceChange] = field(default_factory=list)
    deletes: list[ResourceChange] = field(default_factory=list)
    unchanged: int = 0
    outputs: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    accepted: frozenset[str] = frozenset()
    """Names or URNs of resources whose loss the reviewer accepted (`--allow-data-loss`)."""
    baseline: bool = True
    """False when there was no earlier plan of the stack (everything is a create)."""

    @property
    def changed(self) -> bool:
        return bool(self.creates or self.updates or self.replaces or self.deletes or self.outputs)

    @property
    def data_loss(self) -> list[tuple[str, ResourceChange]]:
        """Resources holding data that this change deletes or replaces, with the step."""
        return ([(DELETE, r) for r in self.deletes if r.type in STATEFUL_TYPES and not r.retained]
                + [(REPLACE, r) for r in self.replaces if r.type in STATEFUL_TYPES and not r.retained])

    def is_accepted(self, r: ResourceChange) -> bool:
        return r.name in self.accepted or r.urn in self.accepted

    @property
    def unaccepted_data_loss(self) -> list[tuple[str, ResourceChange]]:
        return [(step, r) for step, r in self.data_loss if not self.is_accepted(r)]

    def counts(self) -> dict[str, int]:
        return {CREATE: len(self.creates), UPDATE: len(self.updates), REPLACE: len(self.replaces),
                DELETE: len(self.deletes), "unchanged": self.unchanged}

    def totals(self) -> str:
        n = self.counts()
        return (f"{self.stack}: +{n[CREATE]} to create, ~{n[UPDATE]} to update, +-{n[REPLACE]} to replace, "
                f"-{n[DELETE]} to delete, {n['unchanged']} unchanged")

    def steps(self) -> Iterator[tuple[str, ResourceChange]]:
        """Every changed resource with its step, in the order the plan shows them."""
        for step, items in ((CREATE, self.creates), (REPLACE, self.replaces), (UPDATE, self.updates),
                            (DELETE, self.deletes)):
            for r in items:
                yield step, r

    def to_json(self) -> dict[str, Any]:
        def changes(items: tuple[Change, ...] | list[Change]) -> list[dict[str, Any]]:
            return [{"path": c.path, **({"old": c.old} if c.old is not ABSENT else {}),
                     **({"new": c.new} if c.new is not ABSENT else {}),
                     **({"forcesReplacement": c.forces} if c.forces else {})} for c in items]

        return {
            "stack": self.stack,
            "baseline": self.baseline,
            "counts": self.counts(),
            "create": [{"urn": r.urn, "type": r.type} for r in self.creates],
            "update": [{"urn": r.urn, "type": r.type, "changes": changes(r.changes)} for r in self.updates],
            "replace": [{"urn": r.urn, "type": r.type, "forcedBy": r.forced_by,
                         "deleteBeforeReplace": r.delete_before_replace, "changes": changes(r.changes)}
                        for r in self.replaces],
            "delete": [{"urn": r.urn, "type": r.type, **({"retained": True} if r.retained else {})}
                       for r in self.deletes],
            "unchanged": self.unchanged,
            "outputs": changes(self.outputs),
            "refused": [{"urn": f.urn, "type": f.type, "step": f.step, "by": f.who, "message": f.message}
                        for f in self.refusals],
            "dataLoss": [{"urn": r.urn, "type": r.type, "step": step, "holds": STATEFUL_TYPES[r.type],
                          "accepted": self.is_accepted(r)} for step, r in self.data_loss],
        }


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def _as_json(value: Any) -> Any:
    """The parsed document when `value` is a string holding a JSON object or array, else ABSENT."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return ABSENT
    try:
        parsed = json.loads(value)
    except ValueError:
        return ABSENT
    return parsed if isinstance(parsed, (dict, list)) else ABSENT


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(old: Any, new: Any, path: str) -> Iterator[Change]:
    """The changes from `old` to `new` at `path`, element by element."""
    if old is not ABSENT and new is not ABSENT and show(old) == show(new):
        return
    if isinstance(old, dict) and isinstance(new, dict) and not _is_secret(old) and not _is_secret(new):
        for key in sorted(set(old) | set(new)):
            yield from _walk(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, key))
        return
    if isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            yield from _walk(old[i] if i < len(old) else ABSENT, new[i] if i < len(new) else ABSENT, f"{path}[{i}]")
        return
    old_doc, new_doc = _as_json(old), _as_json(new)
    if old_doc is not ABSENT and new_doc is not ABSENT:
        yield from _walk(old_doc, new_doc, path + JSON_MARK)
        return
    yield Change(path, ABSENT if old is ABSENT else show(old), ABSENT if new is ABSENT else show(new))


def property_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every property that differs between two property maps, element by element."""
    return list(_walk(old, new, ""))


def _property_path(path: str) -> str:
    """A change's path as the provider's schema names it (JSON documents are one property)."""
    return path.split(JSON_MARK, 1)[0]


def _resources(export: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The resources of an export by URN (without the stack itself), and the stack's outputs
    with the engine's stand-ins shown as `(known after deploy)`."""
    resources = export.get("deployment", {}).get("resources") or []
    by_urn = {r["urn"]: r for r in resources if r.get("type") != STACK_TYPE}
    root = next((r for r in resources if r.get("type") == STACK_TYPE), {})
    stand_ins = set(export.get("deployment", {}).get("standIns") or ())
    return by_urn, {k: mark_stand_ins(show(v), stand_ins) for k, v in (root.get("outputs") or {}).items()}


def _provider_urn(reference: str) -> str:
    return reference.rsplit("::", 1)[0] if reference else ""


Forces = Callable[[str, str], Optional[str]]


def _classify(before: dict[str, Any], after: dict[str, Any], forces: Forces,
              replaced: set[str]) -> tuple[str, tuple[Change, ...]]:
    """Whether a resource in both plans is unchanged, updated or replaced, and its changes.

    An input that takes an output of a resource being replaced is unknown until that
    replacement exists, as in `pulumi preview`: it shows as a change to
    `(known after deploy)`, and replaces this resource too when it is a force-new property.
    """
    type_ = after["type"]
    replace_on = set(after.get("replaceOnChanges") or ())
    changes = property_changes(before.get("inputs") or {}, after.get("inputs") or {})
    changed = {c.path.split(".")[0].split("[")[0].split("(")[0] for c in changes}
    for prop, urns in sorted((after.get("propertyDependencies") or {}).items()):
        if prop not in changed and replaced.intersection(urns) and prop in (after.get("inputs") or {}):
            changes.append(Change(prop, show((before.get("inputs") or {}).get(prop, ABSENT)), COMPUTED))
    classified = []
    for change in changes:
        prop = _property_path(change.path)
        # Components and providers have no provider schema to consult.
        forced = forces(type_, prop) if after.get("custom") and not type_.startswith("pulumi:") else None
        if forced is None and ("*" in replace_on or prop.split(".")[0].split("[")[0] in replace_on):
            forced = "(replaceOnChanges)"
        classified.append(Change(change.path, change.old, change.new, forced))
    for key in _BINDINGS:
        old, new = before.get(key, ABSENT), after.get(key, ABSENT)
        if old != new:
            # A resource moved to another provider is created there and deleted where it was.
            moved = key == "provider" and after.get("custom") and _provider_urn(str(old)) != _provider_urn(str(new))
            classified.append(Change(f"({key})", old, new, "(provider)" if moved else None))
    if not classified:
        return "", ()
    return (REPLACE if any(c.forces for c in classified) else UPDATE), tuple(classified)


_PROTECTED_DELETE = ("unable to delete resource \"{urn}\"\nas it is currently marked for protection. To unprotect "
                     "the resource, either remove the `protect` flag from the resource in your Pulumi program and "
                     "run `pulumi up` or use the command:\n`pulumi state unprotect '{urn}'`")
_PROTECTED_REPLACE = ("unable to replace resource \"{urn}\"\nas it is currently marked for protection. To unprotect "
                      "the resource, remove the `protect` flag from the resource in your Pulumi program and run "
                      "`pulumi up`")


def _refusals(step: str, before: dict[str, Any], after: Optional[dict[str, Any]]) -> list[Refusal]:
    """What refuses to delete or replace `before`: the engine's protect, then AWS's guard."""
    urn, type_ = before["urn"], before["type"]
    found = []
    # The engine reads `protect` from the state; a replacement is refused only while the
    # program keeps the flag too (unprotecting and replacing in one update is allowed).
    if before.get("protect") and (step == DELETE or (after or {}).get("protect")):
        found.append(Refusal(urn, type_, step, "pulumi",
                             (_PROTECTED_DELETE if step == DELETE else _PROTECTED_REPLACE).format(urn=urn)))
    # A retained resource is only dropped from the stack: AWS is not asked to delete it.
    retained = before.get("retainOnDelete")
    guards = [] if retained else [g for g in DELETION_GUARDS if (before.get("inputs") or {}).get(g) is True]
    if guards:
        found.append(Refusal(urn, type_, step, "aws",
                             f"{short_type(type_)} {urn.rsplit('::', 1)[-1]} has {guards[0]} on: AWS refuses "
                             f"to delete it, so `pulumi up` would stop half-way"
                             + (" (after creating the replacement)" if step == REPLACE else "")
                             + f"; turn {guards[0]} off in one deployment first, then {step} it in the next"))
    return found


def diff_exports(stack: str, old: dict[str, Any] | None, new: dict[str, Any],
                 forces: Forces = forces_replacement) -> StackDiff:
    """The changes from the `old` export (None: no earlier plan) to the `new` one."""
    new_resources, new_outputs = _resources(new)
    if old is None:
        return StackDiff(stack, creates=[ResourceChange(u, r["type"]) for u, r in new_resources.items()],
                         outputs=property_changes({}, new_outputs), baseline=False)
    old_resources, old_outputs = _resources(old)
    result = StackDiff(stack, outputs=property_changes(old_outputs, new_outputs))
    replaced: set[str] = set()
    # In the export's order (dependencies first), so a replacement is known before its dependents.
    for urn, resource in new_resources.items():
        before = old_resources.get(urn)
        if before is None:
            result.creates.append(ResourceChange(urn, resource["type"]))
            continue
        step, changes = _classify(before, resource, forces, replaced)
        if not step:
            result.unchanged += 1
        elif step == UPDATE:
            result.updates.append(ResourceChange(urn, resource["type"], changes))
        else:
            replaced.add(urn)
            result.replaces.append(ResourceChange(urn, resource["type"], changes,
                                                  bool(resource.get("deleteBeforeReplace")),
                                                  bool(before.get("retainOnDelete"))))
            result.refusals += _refusals(REPLACE, before, resource)
    for urn, resource in old_resources.items():
        if urn not in new_resources:
            result.deletes.append(ResourceChange(urn, resource["type"], retained=bool(resource.get("retainOnDelete"))))
            result.refusals += _refusals(DELETE, resource, None)
    return result


def deleted_stack(stack: str, old: dict[str, Any]) -> StackDiff:
    """A stack that was planned before and has no stack file now: all of it goes."""
    resources, outputs = _resources(old)
    result = StackDiff(stack, deletes=[ResourceChange(u, r["type"], retained=bool(r.get("retainOnDelete")))
                                       for u, r in resources.items()],
                       outputs=property_changes(outputs, {}))
    for resource in resources.values():
        result.refusals += _refusals(DELETE, resource, None)
    return result

