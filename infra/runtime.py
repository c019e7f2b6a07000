"""The one place the program leans on a Pulumi SDK internal.

A stack must read its peers' outputs and validate them before it declares any
resource, which means waiting for a `StackReference`'s outputs while the program is
still being evaluated. The SDK has no public synchronous wait; `pulumi.runtime.sync_await`
is what its own `pulumi.automation` and mocks use. The pinned SDK version keeps it
stable, and `tests/engine/test_runtime.py` fails loudly if an upgrade moves it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pulumi
from pulumi.runtime import sync_await as _sdk_sync_await

T = TypeVar("T")


def wait_for(output: pulumi.Output[T]) -> Any:
    """The value of `output`, waited for now (None while unknown, as during a preview)."""
    return _sdk_sync_await._sync_await(output.future())
