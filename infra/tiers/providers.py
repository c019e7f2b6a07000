"""Explicit AWS providers, one per region a stack touches.

Nothing in the program relies on an ambient region: every AWS resource names the
provider of the region it lives in, and each provider stamps the default tags.
"""

from __future__ import annotations

import functools

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pulumi_tls as tls

from infra.config import StackConfig
from infra.domain.naming import default_tags, prefix


class RegionalProviders:
    """Creates and caches one `aws.Provider` per region for a stack."""

    def __init__(self, cfg: StackConfig):
        self._cfg = cfg
        self._providers: dict[str, aws.Provider] = {}

    def aws(self, region: str) -> aws.Provider:
        if region not in self._providers:
            cfg = self._cfg
            self._providers[region] = aws.Provider(
                f"{prefix(cfg.stack)}-aws-{region}",
                region=region,
                default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(
                    stack=cfg.stack, region=region, role=cfg.role,
                    environment=cfg.environment, cost_center=cfg.cost_center)),
            )
        return self._providers[region]

    @property
    def home(self) -> aws.Provider:
        """The provider of the stack's own region."""
        return self.aws(self._cfg.aws_region)

    @functools.cached_property
    def random(self) -> random.Provider:
        """The pulumi-random provider (its default provider is disabled like the others)."""
        return random.Provider(f"{prefix(self._cfg.stack)}-random")

    @functools.cached_property
    def tls(self) -> tls.Provider:
        """The pulumi-tls provider (the admin VPN's certificates)."""
        return tls.Provider(f"{prefix(self._cfg.stack)}-tls")

    def invoke_options(self, region: str) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.aws(region))
