"""The CDN in front of the platform: `www.<domain>` served from the edge, with the cache
rules of `infra/domain/cdn_rules.py` on whichever provider the config names.

Every provider gets the same rules from the same table: static assets a year, dynamic
content an hour, `/api/*` never cached; gzip and Brotli; HTTP/2 and HTTP/3; HTTPS only,
TLS 1.2 or later, to viewers and to the origin. The origin is `app.<domain>`, which
Route53 resolves to the nearest healthy region (`components/geo_dns.py`).

- cloudfront (`components/cdn/cloudfront.py`): distribution, cache and origin request
  policies, ACM certificate, uploads bucket behind Origin Access Control, origin-group
  failover to `nearest.<domain>`, HSTS, access logs, optional WAF, a CloudFront Function
  that sets `x-geo-country`; with image optimization, a viewer function that normalises
  image requests and a Lambda@Edge function that makes the variants.
- cloudflare (`components/cdn/cloudflare.py`): zone settings, a cache-rules ruleset, the
  proxied DNS record; with image optimization, image transformations on the image paths.
- fastly (`components/cdn/fastly.py`): a VCL service with the same classes, a managed
  TLS certificate; with image optimization, the Image Optimizer on the image paths.
- custom: nothing is declared; the stack exports the rules table (`cdnRules`), image
  settings included.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from infra.domain.cdn_rules import rules
from infra.domain.image_variants import ImageSettings

BUILDERS = {"cloudfront": "components.cdn.cloudfront", "cloudflare": "components.cdn.cloudflare",
            "fastly": "components.cdn.fastly"}
PROVIDERS = (*BUILDERS, "custom")


@dataclass(frozen=True)
class CdnArgs:
    """Inputs of `CdnDistribution`."""

    provider: str
    domain: str
    """The platform's domain; the CDN serves `www.<domain>` (Cloudflare: `www.<its zone>`)."""
    origin_host: str
    """`app.<domain>`: the geolocation-routed origin."""
    failover_host: str
    """`nearest.<domain>`: the latency-routed origin the edge retries on a 5xx."""
    zone_id: pulumi.Input[str]
    """The Route53 zone of `domain` (certificate validation, the `www` record)."""
    static_ttl: int
    dynamic_ttl: int
    price_class: str
    waf: bool
    log_retention_days: int
    name_prefix: str
    """Start of generated bucket names, e.g. `hse-production-`."""
    home: aws.Provider
    """The primary region's provider (buckets)."""
    global_provider: aws.Provider
    """us-east-1: CloudFront's certificate, WAF and metrics live there."""
    archive_days: int = 90
    """Days after which uploads (and logs kept longer than that) move to an archive class."""
    images: Optional[ImageSettings] = None
    """What the edge does to images; None: image optimization off."""
    account_id: str = ""
    """The account (the image function's log groups are named in its policy)."""
    region: str = ""
    """The primary's AWS region (Fastly's shield sits near it)."""
    cloudflare_zone_id: str = ""
    cloudflare_api_token: Optional[pulumi.Input[str]] = None
    fastly_api_key: Optional[pulumi.Input[str]] = None

    @property
    def cdn_host(self) -> str:
        return f"www.{self.domain}"

    @property
    def rules(self):
        return rules(self.static_ttl, self.dynamic_ttl, self.images)


class CdnDistribution(pulumi.ComponentResource):
    """The provider's CDN resources; `domain` and `distribution_id` for the stack outputs."""

    domain: pulumi.Output[str]
    distribution_id: pulumi.Output[str]

    def __init__(self, name: str, args: CdnArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:edge:CdnDistribution", name, None, opts)
        if args.provider not in PROVIDERS:
            raise ValueError(f"unknown CDN provider {args.provider!r}; valid: {', '.join(PROVIDERS)}")
        if args.provider in BUILDERS:
            # Imported on use: a stack on one provider never loads the others' SDKs.
            domain, distribution_id = importlib.import_module(BUILDERS[args.provider]).build(name, args, self)
        else:
            domain, distribution_id = "", ""
        self.domain = pulumi.Output.from_input(domain)
        self.distribution_id = pulumi.Output.from_input(distribution_id)
        self.register_outputs({"domain": self.domain, "distributionId": self.distribution_id})
