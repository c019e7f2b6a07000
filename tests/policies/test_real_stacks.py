"""Every real stack passes every mandatory policy (and the advisory ones). A violation
that has to wait for a fix is listed in KNOWN with the change that fixes it; the marks
are strict, so a fix makes the test fail until its line is removed."""

from __future__ import annotations

import pytest

from policies.pack import POLICIES
from tests.conftest import STACKS

KNOWN: dict[tuple[str, str], str] = {}
MANDATORY = [p.name for p in POLICIES if p.enforcement_level.value == "mandatory"]
CASES = [pytest.param(stack, name, marks=[pytest.mark.xfail(reason=KNOWN[(name, stack)], strict=True)]
                      if (name, stack) in KNOWN else [], id=f"{stack}-{name}")
         for stack in STACKS for name in MANDATORY]


@pytest.mark.parametrize("stack,policy", CASES)
def test_real_stack_passes_mandatory_policy(results, stack, policy):
    found = [f"{f.resource}: {f.message}" for f in results[stack].findings if f.policy == policy]
    assert found == []
    assert policy not in results[stack].not_applicable


def test_real_stacks_pass_the_advisory_policies_too(results):
    assert [(f.stack, f.policy, f.resource) for r in results.values() for f in r.findings if f.level == "advisory"] == []
