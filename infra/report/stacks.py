"""The per-stack figures of the report: resource counts by type, the stack outputs
(secrets redacted and cloud-computed values marked, as the plan command shows them),
the policy verdict, the estimated monthly cost, and the modeled RTO and RPO against the
spec's budgets (RTO under 5 minutes, RPO under 1 minute)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from infra.engine.cost import Estimate, estimate
from infra.engine.plan import STACK_TYPE, StackPlan
from infra.engine.summary import counts, plan_outputs, short_type
from infra.domain.rto import SPEC_RTO_SECONDS
from policies.runner import StackResult, check_plan

SPEC_RPO_SECONDS = 60
"""The spec: RPO under 1 minute."""
_LAG_METRICS = {"AuroraGlobalDBReplicationLag": 1000, "ReplicaLag": 1}
"""Replication lag metrics and their unit per second (Aurora's is in milliseconds)."""


@dataclass(frozen=True)
class Recovery:
    rto_seconds: Optional[int]
    rto_fast_seconds: Optional[int]
    rto_budget_seconds: int
    rpo_seconds: Optional[int]
    """The stack's configured RPO (`hse:dbRpoSeconds`), when its config is known."""
    lag_alarm_seconds: Optional[float]
    """The replication lag alarm's threshold; None on the primary, which replicates to others."""
    rpo_budget_seconds: int = SPEC_RPO_SECONDS

    @property
    def rto_ok(self) -> Optional[bool]:
        return None if self.rto_seconds is None else self.rto_seconds < self.rto_budget_seconds

    @property
    def rpo_ok(self) -> Optional[bool]:
        bound = self.lag_alarm_seconds if self.lag_alarm_seconds is not None else self.rpo_seconds
        if bound is None:
            return None
        return bound <= self.rpo_budget_seconds and (self.rpo_seconds is None or self.rpo_seconds <= self.rpo_budget_seconds)


@dataclass
class StackSummary:
    stack: str
    role: str
    aws_region: str
    counts: dict[str, int]
    by_type: list[tuple[str, int]]
    outputs: dict[str, Any]
    policy: StackResult
    cost: Estimate
    recovery: Recovery


def lag_alarm_seconds(plan: StackPlan) -> Optional[float]:
    for alarm in plan.find("aws:cloudwatch/metricAlarm:MetricAlarm"):
        unit = _LAG_METRICS.get(alarm.input("metricName"))
        if unit is not None and alarm.input("threshold") is not None:
            return float(alarm.input("threshold")) / unit
    return None


def recovery(plan: StackPlan, rpo_seconds: Optional[int] = None) -> Recovery:
    rto = plan.outputs.get("modeledRto") if isinstance(plan.outputs.get("modeledRto"), dict) else {}
    return Recovery(rto.get("totalSeconds"), rto.get("fastProfileTotalSeconds"),
                    rto.get("specSeconds", SPEC_RTO_SECONDS), rpo_seconds, lag_alarm_seconds(plan))


def summarize(plan: StackPlan, rpo_seconds: Optional[int] = None,
              stack_config: Optional[dict[str, Any]] = None, peers: Sequence[StackPlan] = (),
              complete: bool = False) -> StackSummary:
    by_type = Counter(short_type(r.type) for r in plan.resources if r.type != STACK_TYPE)
    return StackSummary(
        stack=plan.stack, role=str(plan.outputs.get("role", "")), aws_region=str(plan.outputs.get("awsRegion", "")),
        counts=counts(plan), by_type=sorted(by_type.items()), outputs=plan_outputs(plan),
        policy=check_plan(plan, stack_config=stack_config, peers=peers, complete=complete), cost=estimate(plan, peers=peers), recovery=recovery(plan, rpo_seconds))
