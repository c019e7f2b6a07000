"""The flows of the spec as a mandatory stack policy: every flow of the stack must hold on
its plan (network, identity, wiring; see infra/flows).

Under `pulumi preview --policy-pack` the policy sees this stack's resources alone, so a
hop that needs another stack's plan (the primary's writer, the controller the primary
declares) is unknown there and not reported; the offline runner hands the policy the
plans of every stack (`PEERS`), so `make plan` and `make policy` decide every hop.
"""

from __future__ import annotations

import contextvars
from typing import Sequence

from infra.engine.plan import STACK_TYPE, Resource, StackPlan
from infra.flows import verify
from policies.rule import MANDATORY, stack_policy

DOMAIN = "flows"

# The other stacks' plans when the runner has them (the offline gate does), and whether
# they and this stack are every stack of the project.
PEERS: contextvars.ContextVar[tuple[Sequence[StackPlan], bool]] = contextvars.ContextVar(
    "flow_peers", default=((), False))


def _as_plan(resources) -> StackPlan:
    """This stack's PolicyResources as a plan the verifier reads (props are the outputs)."""
    records = []
    for r in resources:
        props = dict(r.props or {})
        records.append(Resource(urn=r.urn, type=r.resource_type, name=r.name, custom=not r.resource_type.startswith(
            ("hse:", "pulumi:")) or r.resource_type.startswith("pulumi:providers:"), id=str(props.get("id", "")),
            inputs=props, outputs=props))
    root = next((r for r in records if r.type == STACK_TYPE), None)
    stack, project = (root.urn.split(":", 2)[2].split("::")[:2] if root else ("stack", "project"))
    return StackPlan(project, stack, records)


def flows_hold(args, report_violation):
    plan = _as_plan(args.resources)
    known, complete = PEERS.get()
    peers = [p for p in known if p.stack != plan.stack]
    results = verify([*peers, plan], stacks=[plan.stack], complete=complete)
    for result in results:
        block = result.blocking
        if block is not None and not block.unknown:
            report_violation(f"Flow {result.flow} must hold: {block.name} is blocked ({block.detail}).")


POLICIES = [
    stack_policy("flows-hold", "Every flow of the spec holds on the plan: network path, identity and wiring.",
                 flows_hold, level=MANDATORY, domain=DOMAIN),
]
