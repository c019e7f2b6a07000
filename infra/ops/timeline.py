"""The record of one operation: its steps, each with a modeled duration (what the step
takes in AWS) and the measured wall time of the controller's own work, and the result."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

from infra.ops.state import StateStore

# Exit codes the commands share.
DONE, FAILED, NOT_READY = 0, 1, 3


@dataclass
class Step:
    name: str
    detail: str
    modeled_seconds: float
    critical: bool
    """On the recovery-time path (`infra/domain/rto.py`); parallel or later steps are not."""
    wall_ms: float = 0.0


@dataclass
class Outcome:
    operation: str
    action: str
    """What happened: failed-over, failed-back, recorded, noop, suppressed, not-ready, rolled-back, dry-run."""
    detail: str
    code: int = DONE
    steps: list[Step] = field(default_factory=list)
    target: str = ""
    rto_seconds: Optional[float] = None
    rpo_seconds: Optional[float] = None

    @property
    def wall_ms(self) -> float:
        return sum(s.wall_ms for s in self.steps)


class Recorder:
    """Runs and records steps: each lands in the outcome and in the state store's timeline."""

    def __init__(self, outcome: Outcome, store: Optional[StateStore], dry_run: bool):
        self.outcome = outcome
        self.store = store
        self.dry_run = dry_run

    @contextmanager
    def step(self, name: str, detail: str, modeled_seconds: float = 0.0, critical: bool = False) -> Iterator[Step]:
        step = Step(name, detail, modeled_seconds, critical)
        start = time.perf_counter()
        try:
            yield step
        finally:
            step.wall_ms = (time.perf_counter() - start) * 1000
            self.outcome.steps.append(step)
            if self.store is not None and not self.dry_run:
                self.store.record_event(self.outcome.operation, step.name, step.detail, modeled_seconds, step.wall_ms)

    def note(self, name: str, detail: str, modeled_seconds: float = 0.0, critical: bool = False) -> None:
        with self.step(name, detail, modeled_seconds, critical):
            pass
