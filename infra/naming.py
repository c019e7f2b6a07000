"""Resource names and the default tags every taggable resource carries."""

from __future__ import annotations

PROJECT_TAG = "hse-digital"
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
