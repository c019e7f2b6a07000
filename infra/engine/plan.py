"""The recorded plan of one stack: every resource the program declared.

This is the one input the tests, the policy runner and the report read. It holds
values as the engine saw them (secrets still wrapped), and serializes to the shape of
`pulumi stack export`, with every secret redacted the way an export without
`--show-secrets` leaves it: the secret signature and no readable value.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from pulumi.runtime import rpc

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"
COMPUTED = "(known after deploy)"
"""How a value is shown that only the cloud knows, once a deployment made it."""


def _map_secrets(value: Any, on_secret: Callable[[Any], Any]) -> Any:
    """`value` with every secret envelope replaced by `on_secret(inner value)`."""
    if rpc.is_rpc_secret(value):
        return on_secret(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _map_secrets(v, on_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_secrets(v, on_secret) for v in value]
    return value


SECRET_TEXT = "[secret]"


def show(value: Any) -> Any:
    """A value as the diff shows it: every secret envelope replaced by `[secret]`."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return SECRET_TEXT
        return {k: show(v) for k, v in value.items()}
    if isinstance(value, list):
        return [show(v) for v in value]
    return value



def reveal(value: Any) -> Any:
    """The value with every secret unwrapped (for assertions, never for output)."""
    return _map_secrets(value, reveal)


def redact(value: Any) -> Any:
    """The value as `pulumi stack export` shows it: secrets replaced by their envelope."""
    return _map_secrets(value, lambda _: {SIG_KEY: SECRET_SIG, "ciphertext": REDACTED})


@dataclass
class Resource:
    """One declared resource, in the terms of a stack export."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str = ""
    parent: str = ""
    provider: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    external: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    """Resource options the engine receives (not part of a stack export, read by tests and policies)."""
    protect: bool = False
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    replace_on_changes: list[str] = field(default_factory=list)

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0] if self.provider else ""

    def input(self, key: str, default: Any = None) -> Any:
        """An input with secrets revealed."""
        return reveal(self.inputs.get(key, default))

    def output(self, key: str, default: Any = None) -> Any:
        """An output with secrets revealed."""
        return reveal(self.outputs.get(key, default))

    def to_export(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urn": self.urn, "custom": self.custom}
        if self.custom:
            out["id"] = self.id
        out["type"] = self.type
        if self.inputs:
            out["inputs"] = redact(self.inputs)
        if self.outputs:
            out["outputs"] = redact(self.outputs)
        if self.parent:
            out["parent"] = self.parent
        if self.external:
            out["external"] = True
        if self.protect:
            out["protect"] = True
        if self.retain_on_delete:
            out["retainOnDelete"] = True
        if self.delete_before_replace:
            out["deleteBeforeReplace"] = True
        if self.replace_on_changes:
            out["replaceOnChanges"] = list(self.replace_on_changes)
        if self.provider:
            out["provider"] = self.provider
        if self.dependencies:
            out["dependencies"] = list(self.dependencies)
        if self.property_dependencies:
            out["propertyDependencies"] = {k: list(v) for k, v in self.property_dependencies.items()}
        return out


def dependency_order(resources: list[Resource]) -> list[Resource]:
    """Resources in an order where each follows its parent, provider and dependencies.

    Registration order depends on how the SDK's tasks interleave; this order does not,
    so two plans of the same program compare equal line by line. Ties break by URN.
    """
    by_urn = {r.urn: r for r in resources}
    needs: dict[str, set[str]] = {}
    for r in resources:
        deps = {r.parent, r.provider_urn, *r.dependencies, *(u for us in r.property_dependencies.values() for u in us)}
        needs[r.urn] = {d for d in deps if d and d in by_urn and d != r.urn}
    users: dict[str, list[str]] = {}
    for urn, deps in needs.items():
        for d in deps:
            users.setdefault(d, []).append(urn)
    ready = [urn for urn, deps in needs.items() if not deps]
    heapq.heapify(ready)
    ordered: list[Resource] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for user in users.get(urn, []):
            needs[user].discard(urn)
            if not needs[user]:
                heapq.heappush(ready, user)
    if len(ordered) != len(resources):  # a cycle cannot come from the SDK; keep everything regardless
        seen = {r.urn for r in ordered}
        ordered += sorted((r for r in resources if r.urn not in seen), key=lambda r: r.urn)
    return ordered


@dataclass
class StackPlan:
    """Everything one stack declared, in dependency order (see `dependency_order`)."""

    project: str
    stack: str
    resources: list[Resource]
    diagnostics: list[str] = field(default_factory=list)
    stand_ins: frozenset[str] = frozenset()
    """Values the offline cloud made up (ids, ARNs, endpoints, generated names), this stack's
    and those it read from earlier stacks: shown as `(known after deploy)` everywhere."""
    _by_urn: dict[str, Resource] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_urn = {r.urn: r for r in self.resources}

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    @property
    def root(self) -> Resource:
        return next(r for r in self.resources if r.type == STACK_TYPE)

    @property
    def outputs(self) -> dict[str, Any]:
        """Stack outputs with secrets revealed (what a later stack's reference sees)."""
        return reveal(self.root.outputs)

    def get(self, urn: str) -> Resource:
        return self._by_urn[urn]

    def find(self, type_: str, name: Optional[str] = None) -> list[Resource]:
        return [r for r in self.resources if r.type == type_ and (name is None or r.name == name)]

    def single(self, type_: str) -> Resource:
        """The one resource of a type; KeyError when there is none or more than one."""
        found = self.find(type_)
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_}")
        return found[0]

    def one(self, type_: str, name: str) -> Resource:
        found = self.find(type_, name)
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name}")
        return found[0]

    def children(self, urn: str) -> list[Resource]:
        return [r for r in self.resources if r.parent == urn]

    def by_id(self, id_: str) -> list[Resource]:
        return [r for r in self.resources if r.custom and r.id == id_]

    def count_by_type(self) -> Counter:
        return Counter(r.type for r in self.resources)

    def managed(self) -> list[Resource]:
        """Resources the deployment would create (no root stack, no reads, no providers)."""
        return [r for r in self.resources
                if r.type != STACK_TYPE and not r.external and not r.type.startswith("pulumi:providers:")]

    def to_export(self) -> dict[str, Any]:
        return {
            "version": 3,
            "deployment": {
                "manifest": {"magic": "offline", "version": "offline-engine"},
                "secrets_providers": {"type": "offline"},
                "resources": [r.to_export() for r in self.resources],
                # Not in a real export: which values are the offline engine's stand-ins.
                "standIns": sorted(self.stand_ins),
            },
        }
