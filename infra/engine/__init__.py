"""The offline engine: the program evaluated in-process under mocks, recorded as a plan."""

from infra.engine.engine import Engine
from infra.engine.plan import Resource, StackPlan

__all__ = ["Engine", "Resource", "StackPlan"]
