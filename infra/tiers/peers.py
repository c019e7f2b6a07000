"""Reading the earlier stacks' outputs, before anything is declared.

A stack peers with stacks that deploy before it. Their outputs are read through
`pulumi.StackReference` (a read of the state backend, not a cloud resource) and
awaited up front, so that they can be validated against this stack's config (the
networks must not overlap, the peer must really deploy earlier) before the program
declares a single resource. Offline, the engine answers these reads with the earlier
stacks' recorded outputs.
"""

from __future__ import annotations

import ipaddress

import pulumi

from infra.config import NAMESPACE, StackConfig
from infra.domain.problems import ConfigError, Problem
from infra.domain.contract import RegionExports
from infra.domain.naming import prefix
from infra.runtime import wait_for


def stack_reference_name(peer: str) -> str:
    """The fully qualified name of a peer stack in the same project and organization."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{peer}"


def read_peer_exports(cfg: StackConfig) -> dict[str, RegionExports]:
    """The validated outputs of every peer of `cfg`; ConfigError if any is unusable."""
    refs = {peer: pulumi.StackReference(f"{prefix(cfg.stack)}-ref-{peer}", stack_name=stack_reference_name(peer))
            for peer in cfg.peers}
    exports: dict[str, RegionExports] = {}
    problems: list[Problem] = []
    for peer, ref in refs.items():
        outputs = wait_for(ref.outputs) or {}
        parsed, errors = RegionExports.parse(outputs)
        for error in errors:
            problems.append(Problem(cfg.file, f"{NAMESPACE}:peers",
                                    f"stack {stack_reference_name(peer)}: {error}; deploy it first "
                                    f"(pulumi up --stack {peer})"))
        if parsed is not None:
            problems.extend(check_peer_exports(cfg, parsed))
            if parsed.role == "primary":
                problems.extend(check_primary_exports(cfg, parsed))
            exports[peer] = parsed
    if problems:
        raise ConfigError(problems)
    return exports


def check_peer_exports(cfg: StackConfig, peer: RegionExports) -> list[Problem]:
    """This stack's config against what a peer stack has actually deployed."""
    problems = []
    if ipaddress.IPv4Network(peer.vpc_cidr).overlaps(cfg.network.network):
        problems.append(Problem(cfg.file, f"{NAMESPACE}:vpcCidr",
                                f"{cfg.network.vpc_cidr} overlaps {peer.vpc_cidr}, the VPC stack {peer.stack!r} "
                                "has deployed; peered VPCs need disjoint networks"))
    if peer.deploy_order >= cfg.deploy_order:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:peers",
                                f"deployed stack {peer.stack!r} has deploy order {peer.deploy_order}, "
                                f"not before this stack ({cfg.deploy_order})"))
    return problems


def check_primary_exports(cfg: StackConfig, primary: RegionExports) -> list[Problem]:
    """What a secondary takes from the primary must be there: the primary creates its
    region's key replica and credentials replica, and the Global Datastore it joins."""
    problems = []

    def missing(key: str, what: str, how: str = "") -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}",
                                f"the primary {primary.stack!r} {what}; run `pulumi up --stack {primary.stack}`"
                                f"{how} first, then this stack"))

    if cfg.aws_region not in primary.kms_key_arns:
        missing("awsRegion", f"has no key for {cfg.aws_region} yet (it creates one for every region in the stack "
                             "files)")
    elif cfg.aws_region not in primary.db_secret_arns:
        missing("awsRegion", f"replicates no database credentials to {cfg.aws_region} yet")
    if cfg.cache.global_datastore and not primary.cache_global_datastore_id:
        missing("cacheGlobalDatastore", "has deployed no Global Datastore to join",
                " with hse:cacheGlobalDatastore true")
    return problems
