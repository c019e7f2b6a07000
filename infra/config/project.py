"""The checks across stacks (one primary, unique deploy order, peers that deploy earlier,
networks that do not overlap, keys set only on the primary) and the loading of a
project's stacks for the program, the CLI and the tests.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Optional


from infra.domain.problems import ConfigError, Problem
from infra.config.stackfiles import PROJECT_FILE, Project, StackFileError
from infra.config.base import NAMESPACE
from infra.config.edge import EdgeConfig, check_edge_topology
from infra.config.stack import StackConfig, parse_stack



MAX_DATASTORE_SECONDARIES = 2
"""Secondary regions a Global Datastore replicates to (AWS ElastiCache's limit)."""
# Set once, on the primary: every stack reads the primary's value (`edge_settings`).
PRIMARY_ONLY_KEYS = ("dbEngineVersion", *(info.alias for info in EdgeConfig.model_fields.values()),
                     "vpnServerCertificateArn", "vpnClientRootCertificateArn", "vpnClientCidr")


def _check_topology(cfg: StackConfig, others: dict[str, StackConfig]) -> list[Problem]:
    """Checks of this stack against every other stack file of the project."""
    f = cfg.file
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(f, f"{NAMESPACE}:{key}", message))

    everyone = {cfg.stack: cfg, **others}
    primaries = sorted(s.stack for s in everyone.values() if s.is_primary)
    if len(primaries) > 1:
        files = " and ".join(everyone[s].file for s in primaries)
        bad("role", f"{files} both set role primary; exactly one stack may be primary")
    elif not primaries:
        bad("role", "no stack file sets role primary; a secondary replicates from a primary, so exactly one stack must be primary")

    for other in others.values():
        if other.deploy_order == cfg.deploy_order:
            bad("deployOrder", f"{cfg.deploy_order} is also the deploy order of {other.file}; each stack needs its own position")
        if other.network.network.overlaps(cfg.network.network):
            # Blame the stack that deploys later: it is the one joining an existing mesh.
            later, earlier = (cfg, other) if cfg.deploy_order >= other.deploy_order else (other, cfg)
            problems.append(Problem(later.file, f"{NAMESPACE}:vpcCidr",
                                    f"{later.network.vpc_cidr} overlaps {earlier.network.vpc_cidr} of {earlier.file}; "
                                    "peered VPCs need disjoint networks"))
    if len(primaries) == 1:
        primary = everyone[primaries[0]]
        if cfg.is_primary and any(o.deploy_order < cfg.deploy_order for o in others.values()):
            bad("deployOrder", f"{cfg.deploy_order} is not the lowest; the primary deploys first")
        if not cfg.is_primary and primary.stack not in cfg.peers:
            bad("peers", f"{cfg.peers} does not include the primary {primary.stack!r}; "
                         "a secondary must peer with the primary")

    if len(primaries) == 1 and not cfg.is_primary:
        primary = everyone[primaries[0]]
        if cfg.database.engine != primary.database.engine:
            bad("dbEngine", f"{cfg.database.engine} differs from the primary's {primary.database.engine} "
                            f"({primary.file}); every region runs the primary's engine")
        if cfg.cache.global_datastore and not primary.cache.global_datastore:
            bad("cacheGlobalDatastore", f"a secondary can join a Global Datastore only when the primary creates one; "
                                        f"set hse:cacheGlobalDatastore true in {primary.file} as well")
        if cfg.cache.global_datastore:
            # AWS replicates a Global Datastore's primary to secondaries in at most two other regions.
            earlier = sorted((o for o in others.values() if not o.is_primary and o.cache.global_datastore
                              and o.deploy_order < cfg.deploy_order), key=lambda o: o.deploy_order)
            if len(earlier) >= MAX_DATASTORE_SECONDARIES:
                bad("cacheGlobalDatastore", f"{' and '.join(o.file for o in earlier)} already join the Global Datastore; "
                                            f"AWS allows at most {MAX_DATASTORE_SECONDARIES} secondary regions: "
                                            "remove it from this file (this region keeps a stand-alone cluster)")
        for key in PRIMARY_ONLY_KEYS:
            if f"{NAMESPACE}:{key}" in cfg.explicit_keys:
                bad(key, f"is set once, on the primary ({primary.file}); a secondary follows the primary's "
                         "value: remove it from this file")
    if len(primaries) == 1:
        # Every stack uses the primary's edge settings, so each plan checks them.
        problems.extend(check_edge_topology(everyone[primaries[0]], everyone))

    if cfg.is_primary:
        client = ipaddress.IPv4Network(cfg.observability.vpn_client_cidr, strict=False)
        for other in others.values():
            if other.network.network.overlaps(client):
                bad("vpnClientCidr", f"{cfg.observability.vpn_client_cidr} overlaps the VPC {other.network.vpc_cidr} of "
                                     f"{other.file}; VPN clients reach every region, so choose addresses outside every VPC")
    if len(set(cfg.peers)) != len(cfg.peers):
        bad("peers", f"{cfg.peers} lists a stack twice")
    for peer in cfg.peers:
        if peer == cfg.stack:
            bad("peers", "a stack cannot peer with itself")
        elif peer not in others:
            bad("peers", f"{peer!r} has no stack file; valid: {', '.join(sorted(others)) or 'none'}")
        elif others[peer].deploy_order >= cfg.deploy_order:
            bad("peers", f"{peer!r} deploys at order {others[peer].deploy_order}, not before this stack "
                         f"({cfg.deploy_order}); a stack may only peer with stacks that deploy earlier")
    return problems


def load_stack(project: Project, stack: str, config: Optional[dict[str, str]] = None) -> StackConfig:
    """Validate `stack` and the topology it belongs to; raise ConfigError listing every problem.

    `config` is the stack's config as the running program received it; by default it is
    read from the stack file. The other stacks are always read from their files.
    """
    return load_topology(project, stack, config)[0]


def load_topology(project: Project, stack: str,
                  config: Optional[dict[str, str]] = None) -> tuple[StackConfig, dict[str, StackConfig]]:
    """`load_stack`, and the validated config of every other stack of the project."""
    try:
        own_file = project.stack_file(stack)
    except StackFileError as exc:
        raise ConfigError([Problem(exc.file, "", exc.reason)]) from None
    if config is not None:
        # Values as the CLI handed them to the program; keys the program was not asked
        # about (unknown ones, to be reported) as the stack file holds them.
        own_file = dataclasses.replace(own_file, config={**own_file.config, **config})
    cfg, problems = parse_stack(own_file)
    others: dict[str, StackConfig] = {}
    for name in project.stack_names():
        if name == stack:
            continue
        try:
            other, other_problems = parse_stack(project.stack_file(name))
        except StackFileError as exc:
            problems.append(Problem(exc.file, "", exc.reason))
            continue
        problems.extend(other_problems)
        if other is not None:
            others[name] = other
    if cfg is not None and not problems:
        problems.extend(_check_topology(cfg, others))
    if problems:
        raise ConfigError(problems)
    assert cfg is not None
    return cfg, others


def deploy_order(project: Project) -> list[str]:
    """Stack names in rolling deploy order (the primary first), read from the stack files."""
    orders: dict[str, int] = {}
    for name in project.stack_names():
        try:
            orders[name] = int(project.stack_file(name).config.get(f"{NAMESPACE}:deployOrder", ""))
        except (ValueError, StackFileError):
            orders[name] = 10**6  # invalid: plan it last, where validation will report it
    return sorted(orders, key=lambda s: (orders[s], s))


def validate_stacks(project: Project, stacks: list[str]) -> tuple[dict[str, StackConfig], list[Problem]]:
    """Every check `pulumi up` and the program would make, for each of `stacks`, without
    running anything: the CLI's project-config rules, then the model and the topology.
    A stack file that cannot be read is one problem; the others are still checked."""
    configs: dict[str, StackConfig] = {}
    problems: list[Problem] = []
    try:
        problems.extend(project.declaration_problems())
    except StackFileError as exc:
        return {}, [Problem(exc.file, "", exc.reason)]
    for stack in stacks:
        try:
            cli = [p for p in project.cli_problems(stack) if p.file != PROJECT_FILE]
        except StackFileError as exc:
            problems.append(Problem(exc.file, "", exc.reason))
            continue
        problems.extend(cli)
        if cli:
            continue
        try:
            configs[stack] = load_stack(project, stack)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return configs, list(dict.fromkeys(problems))
