"""Facts about resource types, read from the installed provider SDKs."""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Optional


@functools.lru_cache(maxsize=None)
def resource_class(type_token: str) -> Optional[type]:
    """The SDK class of a resource type token such as `aws:ec2/vpc:Vpc`, or None."""
    try:
        package, module, name = type_token.split(":")
    except ValueError:
        return None
    if package == "pulumi":
        return None
    parts = module.split("/")
    candidates = []
    if parts[0] == "index":
        candidates.append(f"pulumi_{package}")
    else:
        candidates.append(f"pulumi_{package}.{parts[0]}")            # aws:ec2/vpc:Vpc
        candidates.append(f"pulumi_{package}.{'.'.join(parts)}")     # kubernetes:apps/v1:Deployment
    for candidate in candidates:
        try:
            mod = importlib.import_module(candidate)
        except ImportError:
            continue
        cls = getattr(mod, name, None)
        if inspect.isclass(cls):
            return cls
    return None


@functools.lru_cache(maxsize=None)
def arguments(type_token: str) -> frozenset[str]:
    """The Python argument names the resource type takes (empty for unknown types)."""
    cls = resource_class(type_token)
    if cls is None or not hasattr(cls, "_internal_init"):
        return frozenset()
    return frozenset(inspect.signature(cls._internal_init).parameters)


def is_taggable(type_token: str) -> bool:
    """Whether the resource type takes a `tags` argument (and so gets the provider's default tags)."""
    return "tags" in arguments(type_token)


def is_autonamed(type_token: str) -> bool:
    """Whether the provider generates the resource's `name` when the program gives none.

    The AWS provider autonames every resource that has a `name` together with a
    `name_prefix` argument: without either, the name is the logical name plus a random
    suffix; with a prefix, the prefix plus a unique id.
    """
    return type_token.startswith("aws:") and {"name", "name_prefix"} <= arguments(type_token)
