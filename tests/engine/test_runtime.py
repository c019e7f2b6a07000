"""The one SDK internal the program uses, checked against the pinned SDK."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime import sync_await

from infra.engine import Engine
from infra.runtime import wait_for
from tests.conftest import PROJECT_DIR


def test_the_sdk_still_has_its_synchronous_wait() -> None:
    # If an SDK upgrade moves or renames it, this fails before any deployment does.
    assert callable(getattr(sync_await, "_sync_await", None))


def test_wait_for_returns_the_value_of_an_output_during_the_program() -> None:
    seen = {}

    def program(_: Path) -> None:
        seen["value"] = wait_for(pulumi.Output.from_input("ready").apply(str.upper))
        seen["secret"] = wait_for(pulumi.Output.secret("hidden"))
        pulumi.export("done", True)

    Engine(PROJECT_DIR, program=program).plan("us-east")
    assert seen == {"value": "READY", "secret": "hidden"}


def test_the_program_reads_no_sdk_internal_besides_that_one() -> None:
    for path in [*PROJECT_DIR.glob("infra/*.py"), *PROJECT_DIR.glob("components/*.py")]:
        text = path.read_text()
        if path.name == "runtime.py":
            continue
        assert "_sync_await" not in text and "runtime.config" not in text, path
