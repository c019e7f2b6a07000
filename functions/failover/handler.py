"""The failover controller's Lambda entry point: thin by design.

It reads its settings from the environment the program gives it, turns the event
(an alarm state change from EventBridge, an RDS failure event, or an alarm notification
through SNS) into a signal and lets `infra.ops` act. Everything it does is in
`infra/ops/`, tested there on moto.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from infra.ops.clients import Clients
from infra.ops.clock import Clock
from infra.ops.entry import handle
from infra.ops.failover import Settings
from infra.ops.state import StateStore

log = logging.getLogger()
log.setLevel(logging.INFO)


def settings_from_env(env: dict[str, str]) -> Settings:
    return Settings(hold_down_seconds=int(env.get("HSE_HOLD_DOWN_SECONDS", "900")),
                    detection_seconds=int(env.get("HSE_DETECTION_SECONDS", "90")),
                    dns_ttl_seconds=int(env.get("HSE_DNS_TTL_SECONDS", "60")),
                    rpo_seconds=int(env.get("HSE_RPO_SECONDS", "60")),
                    watchdog_threshold=int(env.get("HSE_WATCHDOG_THRESHOLD", "3")),
                    dry_run=env.get("HSE_DRY_RUN", "false").lower() == "true")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = dict(os.environ)
    clients = Clients()
    clock = Clock()
    store = StateStore(clients, env["AWS_REGION"], env["HSE_STATE_TABLE"], clock)
    result = handle(event, clients, store, clock, settings_from_env(env))
    log.info(json.dumps(result, default=str))
    if not finished(result):
        # Lambda retries the event twice, then sends it to the dead-letter queue (FunctionEventInvokeConfig).
        raise RuntimeError(f"failover controller: {result['action']} (code {result['code']}): {result['detail']}")
    return result


EXPECTED = frozenset({"ignored", "noop", "recorded", "failed-over", "dry-run", "suppressed"})
"""What the controller answers when it did its job (or had none)."""


def finished(result: dict[str, Any]) -> bool:
    """Whether an invocation is done with: an expected action that succeeded, or a suppressed
    failover (refused by the hold-down, already escalated to operators on SNS). Anything else
    (an unknown action, a failure code such as no healthy region to promote) is retried."""
    return result["action"] in EXPECTED and (result["code"] == 0 or result["action"] == "suppressed")
