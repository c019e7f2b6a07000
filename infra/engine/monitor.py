"""A resource monitor that records every registration while the cloud answers are mocked.

It stands in for the Pulumi engine's gRPC monitor: the SDK calls it for every resource,
read, data-source call and component output, exactly as during `pulumi up`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import empty_pb2
from pulumi import Resource as PulumiResource
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.engine.cloud import OfflineCloud
from infra.engine.plan import STACK_TYPE, Resource


def _asset_value(value: Any) -> dict:
    """An asset or archive recorded by content hash (as the engine's state compares them), so
    a plan is the same wherever the repository is checked out and changes when a file does.
    Not in the engine's own asset encoding, which the SDK would read back as an asset."""
    if isinstance(value, pulumi.AssetArchive):
        assets = {name: _asset_value(a) for name, a in sorted(value.assets.items())}
        digest = hashlib.sha256(json.dumps(assets, sort_keys=True).encode()).hexdigest()
        return {"archive": assets, "hash": digest}
    if isinstance(value, pulumi.FileArchive):
        # A directory a build step fills (Pillow for the image function): recorded by name,
        # so a plan does not depend on whether this machine has built it.
        return {"archive": "file", "name": Path(value.path).name}
    if isinstance(value, pulumi.FileAsset):
        content = Path(value.path).read_bytes()
    elif isinstance(value, pulumi.StringAsset):
        content = value.text.encode()
    else:
        raise NotImplementedError(f"the offline engine cannot record {type(value).__name__} yet")
    return {"asset": "file" if isinstance(value, pulumi.FileAsset) else "string",
            "hash": hashlib.sha256(content).hexdigest()}


def _plain_value(value: Any, hashed_assets: bool = True) -> Any:
    """Engine values made JSON-able: resource references become their URN, assets their hash
    (kept as they are, with `hashed_assets=False`, for what goes back to the SDK)."""
    if isinstance(value, PulumiResource):
        return _sync_await(value.urn.future())
    if isinstance(value, (pulumi.Asset, pulumi.Archive)) and hashed_assets:
        return _asset_value(value)
    if isinstance(value, dict):
        return {k: _plain_value(v, hashed_assets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(v, hashed_assets) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _NoMocks(Mocks):
    """Placeholder for the base class; the recording monitor answers everything itself."""

    def call(self, args):  # pragma: no cover - never called
        raise NotImplementedError

    def new_resource(self, args):  # pragma: no cover - never called
        raise NotImplementedError


class RecordingMonitor(MockMonitor):
    """Answers the SDK through `OfflineCloud` and records each resource in order."""

    def __init__(self, cloud: OfflineCloud, denied_default_providers: frozenset[str] = frozenset()):
        super().__init__(_NoMocks())
        self.cloud = cloud
        # Packages whose default provider is disabled (`pulumi:disable-default-providers`; "*" is all).
        self.denied_default_providers = denied_default_providers
        self.records: list[Resource] = []
        self._by_urn: dict[str, Resource] = {}
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the real engine gives: the parent's whole type chain, not just its last
        type (the SDK's mock shortens it), and nothing of the root stack's type."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def _record(self, record: Resource) -> None:
        with self._lock:
            if record.urn in self._by_urn:
                raise ValueError(f"duplicate resource URN {record.urn}")
            self.records.append(record)
            self._by_urn[record.urn] = record

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        _ensure_event_loop()
        inputs = _plain_value(rpc.deserialize_properties(request.object), hashed_assets=False)
        if request.custom:
            inputs = self.cloud.check(type_=request.type, name=request.name, urn=urn, inputs=inputs)
        record = Resource(
            urn=urn, type=request.type, name=request.name, custom=bool(request.custom),
            parent=request.parent, provider=request.provider,
            inputs=_plain_value(inputs),
            # Sorted: the SDK gathers them in whatever order its tasks finish.
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items())},
            ignore_changes=sorted(request.ignoreChanges), protect=bool(request.protect),
            delete_before_replace=bool(request.deleteBeforeReplace), retain_on_delete=bool(request.retainOnDelete),
            replace_on_changes=sorted(request.replaceOnChanges),
        )
        if request.type == STACK_TYPE or not request.custom:
            self._record(record)
            return resource_pb2.RegisterResourceResponse(urn=urn)
        package = request.type.split(":", 1)[0]
        if not request.provider and package != "pulumi" and (
                package in self.denied_default_providers or "*" in self.denied_default_providers):
            raise ValueError(f"{urn} uses the default {package} provider, which this project disables "
                             "(pulumi:disable-default-providers); pass an explicit provider")
        rid, state = self.cloud.new_resource(type_=request.type, name=request.name, urn=urn, inputs=inputs,
                                             provider_ref=request.provider, resource_id=request.importId)
        record.id, record.outputs = rid, _plain_value(state)
        self._record(record)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, rid, state)
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid, object=obj)

    def ReadResource(self, request):
        _ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = _plain_value(rpc.deserialize_properties(request.properties))
        rid, state = self.cloud.new_resource(type_=request.type, name=request.name, urn=urn, inputs=inputs,
                                             provider_ref=request.provider, resource_id=request.id)
        self._record(Resource(urn=urn, type=request.type, name=request.name, custom=True, id=rid,
                              parent=request.parent, provider=request.provider, inputs=inputs,
                              outputs=_plain_value(state), dependencies=sorted(set(request.dependencies)),
                              external=True))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, rid, state)
        props = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=props)

    def RegisterResourceOutputs(self, request):
        _ensure_event_loop()
        outputs = _plain_value(rpc.deserialize_properties(request.outputs))
        with self._lock:
            record = self._by_urn.get(request.urn)
            if record is not None:
                record.outputs = outputs or {}
        return empty_pb2.Empty()

    def Invoke(self, request):
        _ensure_event_loop()
        args = rpc.deserialize_properties(request.args)
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        result = self.cloud.call(request.tok, args, request.provider)
        ret = _sync_await(rpc.serialize_properties(result, {}))
        # `return` is a Python keyword, so the field can only be passed by name this way.
        return resource_pb2.ResourceInvokeResponse(**{"return": ret})
