"""What the verifier says of a flow: its hops in order and the first one that blocks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Hop:
    """One step of a flow: a network leg, a permission, or a piece of wiring."""

    name: str
    ok: bool
    detail: str
    resource: str = ""
    unknown: bool = False
    """Not decidable from the plans given (what it needs is in a stack not loaded)."""

    @property
    def verdict(self) -> str:
        return "pass" if self.ok else "unknown" if self.unknown else "blocked"

    def to_json(self) -> dict[str, Any]:
        return {"hop": self.name, "verdict": self.verdict, "detail": self.detail, "resource": self.resource}


def passed(name: str, detail: str, resource: str = "") -> Hop:
    return Hop(name, True, detail, resource)


def blocked(name: str, detail: str, resource: str = "") -> Hop:
    return Hop(name, False, detail, resource)


def missing(name: str, detail: str, resource: str, *, complete: bool) -> Hop:
    """A hop whose subject no plan declares: blocked when every stack's plan is loaded,
    unknown when the subject may be in a stack that is not."""
    return Hop(name, False, detail if complete else f"{detail} (not in the plans loaded)", resource,
               unknown=not complete)


@dataclass
class FlowResult:
    """A flow of one stack (or between two) with every hop the verifier checked."""

    flow: str
    stack: str
    description: str
    hops: list[Hop] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(h.ok for h in self.hops)

    @property
    def verdict(self) -> str:
        block = self.blocking
        return block.verdict if block else "pass"

    @property
    def blocking(self) -> Optional[Hop]:
        return next((h for h in self.hops if not h.ok), None)

    def to_json(self) -> dict[str, Any]:
        block = self.blocking
        return {"flow": self.flow, "stack": self.stack, "description": self.description,
                "verdict": self.verdict,
                "blocking": block.to_json() if block else None,
                "hops": [h.to_json() for h in self.hops]}
