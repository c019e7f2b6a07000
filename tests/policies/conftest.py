"""The pack's results over the real stacks, computed once per session from the shared plans."""

from __future__ import annotations

import pytest

from policies.runner import check_plan


@pytest.fixture(scope="session")
def results(plans, engine):
    return {name: check_plan(plan, stack_config=engine.project.stack_file(name).config) for name, plan in plans.items()}
