"""Fixtures of the operational tests: the plans as the ops tools read them, and a fresh
moto world seeded from them for each test that changes it."""

from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest

from infra.ops.drill import Run, ScenarioResult
from infra.ops.plans import PlanView

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # EKS node groups need no AMI catalogue

COUNTS = {"us-east": 5, "eu-west": 3, "ap-se": 3}


@pytest.fixture(scope="session")
def views(plans) -> list[PlanView]:
    """The project's own plans (Aurora, no tenants, no Global Datastore)."""
    return [PlanView.of(plans[s]) for s in ("us-east", "eu-west", "ap-se")]


@pytest.fixture(scope="session")
def staging_views(staging) -> list[PlanView]:
    """Every optional key set: tenants bound to zones, a Global Datastore, the fast health checks."""
    return [PlanView.of(staging[s]) for s in ("us-east", "eu-west", "ap-se")]


@pytest.fixture(scope="session")
def platform(views):
    """The platform as the plans declare it (no emulator: for what only reads identifiers)."""
    from infra.domain.platform import Platform, RegionRecord

    return Platform.of(RegionRecord.from_outputs(v.outputs, COUNTS[v.stack]) for v in views)


@pytest.fixture
def world(views) -> Iterator[Callable[..., Run]]:
    """A fresh moto world seeded from the plans; call it (optionally with other views)."""
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID

    from infra.ops.clients import Clients
    from infra.ops.clock import ModelClock
    from infra.ops.emulation import Emulation
    from infra.ops.seed import seed

    with mock_aws():
        def make(which: list[PlanView] = views, emulate: bool = True) -> Run:
            emulation = Emulation(DEFAULT_ACCOUNT_ID)
            clients = Clients(on_client=emulation.attach if emulate else None)
            clock = ModelClock()
            seeded = seed(clients, which, COUNTS, "eu-west-1", "hse-test-state", clock, emulation)
            primary = next(v for v in which if v.outputs["role"] == "primary")
            return Run(seeded, clients, clock, emulation, ScenarioResult("test", "test"),
                       primary.outputs.get("modeledRto"))
        yield make
