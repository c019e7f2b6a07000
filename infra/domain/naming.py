"""Resource names and the default tags every taggable resource carries."""

from __future__ import annotations

PROJECT_TAG = "hse-digital"
GLOBAL_REGION = "us-east-1"
"""Where global services keep their regional parts: Route53 health-check metrics,
CloudFront's certificate, WAF and metrics."""
DEFAULT_TAG_KEYS = ("project", "stack", "region", "role", "environment", "managed-by", "cost-center")


def prefix(stack: str) -> str:
    """Name prefix of everything a stack owns: `hse-<stack>`."""
    return f"hse-{stack}"


def physical_prefix(environment: str, stack: str) -> str:
    """Start of the fixed names AWS sees (global cluster, final snapshot): `hse-<environment>-<stack>`."""
    return f"hse-{environment}-{stack}"


def log_group_prefix(environment: str, stack: str) -> str:
    """Start of every log group a stack creates: `/hse/<environment>/<stack>/`.

    The stack name is unique within the project and the environment tells two
    deployments of the same stack names in one account apart.
    """
    return f"/hse/{environment}/{stack}/"


def default_tags(*, stack: str, region: str, role: str, environment: str, cost_center: str) -> dict[str, str]:
    """The tags every provider applies to every taggable resource it creates."""
    return {
        "project": PROJECT_TAG,
        "stack": stack,
        "region": region,
        "role": role,
        "environment": environment,
        "managed-by": "pulumi",
        "cost-center": cost_center,
    }


HEALTH_PATH = "/api/health"
"""The spec's health endpoint (HTTP 200 when the app, its database and its Redis answer): what
Route53's health checks, the pods' probes and the failover controller's watchdog request."""

# Host names under the platform's domain (`hse:edgeDomain`).
APP_LABEL = "app"
"""`app.<domain>`: geolocation-routed to the serving region (the CDN's origin, API clients)."""
NEAREST_LABEL = "nearest"
"""`nearest.<domain>`: latency-routed across every healthy region (the geolocation default)."""
CDN_LABEL = "www"
"""`www.<domain>`: the CDN, in front of `app.<domain>`."""
RESERVED_LABELS = (APP_LABEL, NEAREST_LABEL, CDN_LABEL)
"""Labels a tenant id may not take (nor may it take a stack's name: `<stack>.<domain>` is its endpoint)."""


def host(label: str, domain: str) -> str:
    return f"{label}.{domain}"
