"""The flows of the spec, and the verifier that runs them over the plans of every stack.

Each flow is checked per stack, hop by hop; a flow holds when every hop does, and the first
hop that does not is the one to fix. Flows that belong to one stack only (the CDN lives
with the primary, the promoted-writes path with the secondaries) say so in `applies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from infra.engine.plan import StackPlan
from infra.flows import operations, traffic
from infra.flows.places import Context
from infra.flows.plans import PlanSet
from infra.flows.result import FlowResult, blocked


@dataclass(frozen=True)
class Flow:
    name: str
    description: str
    check: Callable[[Context, str], list]
    applies: Callable[[Context, str], bool] = lambda ctx, stack: True


def _primary(ctx: Context, stack: str) -> bool:
    return stack == ctx.plans.primary()


def _secondary(ctx: Context, stack: str) -> bool:
    return stack != ctx.plans.primary()


FLOWS: tuple[Flow, ...] = (
    Flow("read", "user → DNS → NLB → pod → read-only proxy → regional database; Redis", traffic.read),
    Flow("write", "user → pod → the primary's writer (own proxy, write forwarding, or across the peering)",
         traffic.write),
    Flow("static", "CDN → uploads bucket through origin access control", traffic.static_assets, _primary),
    Flow("cdn-origin", "CDN → origin over HTTPS → regional NLBs", traffic.cdn_origin, _primary),
    Flow("health-check", "Route53 health checks → the endpoint their records serve → /api/health",
         traffic.health_checks),
    Flow("app-aws", "app → its secrets, key, failover state and metrics (IRSA, NAT)", operations.app_to_aws),
    Flow("rotation", "Secrets Manager → one rotation function per secret → database / ElastiCache",
         operations.secret_rotation),
    Flow("failover-controller", "health alarm → EventBridge → controller → every API of a failover/failback",
         operations.failover_controller),
    Flow("admin-vpn", "admin VPN → Kubernetes API and database of the region", operations.admin_vpn),
    Flow("deployer", "machine running `pulumi up` → Kubernetes API during the first deploy", operations.deployer),
    Flow("promoted-writes", "after promotion: app → own proxy → own cluster, state read", operations.promoted_writes,
         _secondary),
    Flow("autoscaling", "metrics-server → HPAs → pods; cluster autoscaler (IRSA) → the node group's ASG",
         operations.autoscaling),
    Flow("audit-trail", "CloudTrail → the trail's key (describe, data keys) → the audit bucket", operations.audit_trail,
         _primary),
    Flow("metrics", "every alarm and dashboard metric has a publisher with its dimensions", operations.metrics),
)

FLOW_NAMES = tuple(f.name for f in FLOWS)


def verify(plans: Sequence[StackPlan], *, stacks: Optional[Sequence[str]] = None,
           flows: Optional[Sequence[str]] = None, complete: bool = True) -> list[FlowResult]:
    """Every flow of every stack in `stacks` (default: all), over all of `plans`
    (`complete`: they are every stack of the project)."""
    ctx = Context.of(PlanSet(plans, complete=complete))
    chosen = [f for f in FLOWS if flows is None or f.name in flows]
    results = []
    for stack in stacks or ctx.plans.stacks:
        for flow in chosen:
            if not flow.applies(ctx, stack):
                continue
            result = FlowResult(flow.name, stack, flow.description)
            try:
                result.hops = list(flow.check(ctx, stack))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                result.hops = [blocked(f"{stack} {flow.name}", f"the plan lacks what this flow reads ({exc!r})", stack)]
            results.append(result)
    return results
