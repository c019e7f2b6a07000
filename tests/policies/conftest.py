"""The pack's results over the real stacks, computed once per session from the shared plans."""

from __future__ import annotations

import pytest

from policies.runner import check_plan


@pytest.fixture(scope="session")
def results(plans, engine):
    # As `make plan --policy` runs it: the flow policy sees every stack's plan.
    every = list(plans.values())
    return {name: check_plan(plan, stack_config=engine.project.stack_file(name).config, peers=every, complete=True)
            for name, plan in plans.items()}
