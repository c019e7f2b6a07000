"""The region resolver for application code: standard library only. See README.md."""

from resolver.region_resolver import Resolver

__all__ = ["Resolver"]
