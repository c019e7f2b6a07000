"""Shared fixtures: one offline engine per session, each stack evaluated once and shared.

Tests that need a different topology copy the project's Pulumi files into a temporary
directory, edit them there and plan with a fresh engine (`project_copy`, `edit_stack`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from infra.engine import Engine, StackPlan

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("us-east", "eu-west", "ap-se")


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(PROJECT_DIR)


@pytest.fixture(scope="session")
def plans(engine: Engine) -> dict[str, StackPlan]:
    return {plan.stack: plan for plan in engine.plan_all()}


def copy_project(dest: Path) -> Path:
    """The project's Pulumi files (not the code) copied to `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, dest / path.name)
    return dest


def edit_stack(project: Path, stack: str, **changes: Any) -> Path:
    """Set (or with None, remove) `hse:<key>` values in a copied stack file; write a new one if absent."""
    path = project / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text()) if path.exists() else {"config": {}}
    for key, value in changes.items():
        full = key if ":" in key else f"hse:{key}"
        if value is None:
            data["config"].pop(full, None)
        else:
            data["config"][full] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def plan_copy(project_copy: Path) -> Callable[..., StackPlan]:
    """Plan one stack of the copied project with a fresh engine."""

    def plan(stack: str, **engine_args: Any) -> StackPlan:
        return Engine(project_copy, **engine_args).plan(stack)

    return plan
