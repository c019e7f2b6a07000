"""The flow verifier: whether every flow of the spec can happen on the recorded plans,
over the network, with the identities involved, through the wiring between tiers."""

from infra.flows.catalog import FLOW_NAMES, FLOWS, verify
from infra.flows.result import FlowResult, Hop

__all__ = ["FLOWS", "FLOW_NAMES", "FlowResult", "Hop", "verify"]
