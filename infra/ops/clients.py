"""boto3 clients per service and region, all made in one place.

An `endpoint_url` (a moto server on loopback, a staging emulator) applies to every
client, and `on_client` hooks let the drill stub one API call at the boto3 boundary
(see `infra.ops.emulation`) without touching any other call.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=20)


class Clients:
    """A cache of boto3 clients keyed by (service, region)."""

    def __init__(self, endpoint_url: Optional[str] = None, session: Optional[boto3.session.Session] = None,
                 on_client: Optional[Callable[[str, str, Any], None]] = None):
        self.endpoint_url = endpoint_url
        # A session of its own: an emulator patched in after an older session was made still applies.
        self._session = session or boto3.session.Session()
        self._on_client = on_client
        self._cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._cache:
            client = self._session.client(service, region_name=region, endpoint_url=self.endpoint_url, config=_RETRIES)
            if self._on_client is not None:
                self._on_client(service, region, client)
            self._cache[key] = client
        return self._cache[key]
