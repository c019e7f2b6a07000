"""The validated configuration of a stack, one module per tier.

Each stack file holds flat `hse:<key>` values (Pulumi.yaml documents every key). They
are grouped into one pydantic model per tier (`network`, `workloads`, `observability`,
`database`, `cache`, `edge`), gathered by `stack.StackConfig`, so a new tier adds a
section module and its keys without touching the others. Validation runs before the
program declares any resource and reports every problem at once, each naming the stack
file, the key and what would be valid. The checks across stacks (one primary, a unique
deploy order, peers that deploy earlier, networks that do not overlap) live in
`project`, the one module that sees every stack file.

The modules import each other in one direction only: base, then the sections, then
`stack`, then `project`.
"""

from infra.config.base import NAMESPACE
from infra.config.cache import cache_user_id
from infra.config.edge import EdgeConfig, edge_settings
from infra.config.project import PRIMARY_ONLY_KEYS, deploy_order, load_stack, load_topology, validate_stacks
from infra.config.stack import StackConfig, parse_stack

__all__ = ["NAMESPACE", "PRIMARY_ONLY_KEYS", "EdgeConfig", "StackConfig", "cache_user_id", "deploy_order",
           "edge_settings", "load_stack", "load_topology", "parse_stack", "validate_stacks"]
