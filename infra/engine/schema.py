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


# Properties the AWS provider fills in with a generated name, and their prefix argument.
_AUTONAMED = (("name", "name_prefix"), ("cluster_identifier", "cluster_identifier_prefix"),
              ("identifier", "identifier_prefix"), ("replication_group_id", None), ("bucket", "bucket_prefix"),
              ("node_group_name", "node_group_name_prefix"))


@functools.lru_cache(maxsize=None)
def autoname_property(type_token: str) -> Optional[tuple[str, Optional[str]]]:
    """The (property, prefix property) the provider generates a name for, in camelCase.

    The AWS provider autonames a resource's name-like property when the program may
    leave it out: without it (or a prefix), the name is the logical name plus a random
    suffix; with a prefix, the prefix plus a unique id.
    """
    if not type_token.startswith("aws:"):
        return None
    cls = resource_class(type_token)
    args_class = getattr(inspect.getmodule(cls), f"{cls.__name__}Args", None) if cls else None
    if args_class is None:
        return None
    params = inspect.signature(args_class.__init__).parameters
    for prop, prefix in _AUTONAMED:
        if prop in params and params[prop].default is None:
            return camel(prop), (camel(prefix) if prefix in params else None)
    return None


def camel(snake: str) -> str:
    """`name_prefix` -> `namePrefix`: Python argument names as the engine's property names."""
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
