"""What the docs show must plan and pass the gate.

Every configuration example of README.md and docs/*.md is read from the text itself: the
README's stack file for a fourth region, and every inline `hse:<key>: <value>` setting.
Compatible settings are planned together (one project per engine, one evaluation per
session); each project must pass every mandatory policy, the flows included, and the flow
verifier must find every flow of every stack holding. A setting the docs add or change
fails `test_every_documented_setting_is_planned` until a project below plans it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from infra.config import PRIMARY_ONLY_KEYS
from infra.engine import Engine, StackPlan
from infra.engine.cost import estimate, prices
from infra.flows import verify
from policies.runner import check_plan
from tests.conftest import FOURTH_REGION, PROJECT_DIR, STACKS, copy_project, edit_stack

DOCS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
DATASTORE = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
SETTING = re.compile(r"`hse:([A-Za-z]+): ([^`]+)`")


def documented_settings() -> dict[str, list[str]]:
    """Every inline `hse:<key>: <value>` of the docs, as written, with where it is written."""
    found: dict[str, list[str]] = {}
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            for match in SETTING.finditer(line):
                found.setdefault(match.group(0).strip("`"), []).append(f"{doc.name}:{number}")
    return found


def parse(setting: str) -> tuple[str, object]:
    key, value = setting.removeprefix("hse:").split(":", 1)
    return key, yaml.safe_load(value)


def readme_stack_file() -> dict:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("**Adding a region**", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return yaml.safe_load(block)


# The documented settings, combined where the docs allow: the rds-postgres engine has no
# write forwarding (docs/database.md), and one platform has one CDN provider.
PROJECTS = {
    "aurora": [
        "hse:cacheGlobalDatastore: true",  # docs/cache.md: the primary and each joining secondary
        "hse:dbWriteForwarding: true",
        "hse:edgeHealthCheckInterval: 10",  # the fast profile
        "hse:edgeTenantRouting: [acme=eu-west@EU]",
        "hse:cdnProvider: cloudflare",
        "hse:cloudflareZoneId: 0123456789abcdef0123456789abcdef",
        "hse:cdnImageFormats: [webp, avif]",
        "hse:eksDeployerInsideVpc: true",
        "hse:eksPublicAccessCidrs: []",
    ],
    "rds": [
        "hse:dbEngine: rds-postgres",
        "hse:edgeHealthCheckInterval: 10",  # which rds-postgres needs to meet the RTO (docs/database.md)
        "hse:cdnProvider: fastly",
        "hse:cdnImageOptimization: false",
    ],
}


def gate(plans: list[StackPlan], project: Path) -> dict[str, list[str]]:
    """Every mandatory violation of every stack, the flows included, as `policy: message`."""
    engine = Engine(project)
    return {plan.stack: [f"{f.policy}: {f.message}" for f in check_plan(
        plan, stack_config=engine.project.stack_file(plan.stack).config, peers=plans, complete=True).mandatory]
        for plan in plans}


def blocked_flows(plans: list[StackPlan]) -> list[str]:
    return [f"{r.stack} {r.flow}: {r.blocking.name} ({r.blocking.detail})" for r in verify(plans)
            if r.blocking is not None]


def plan_project(tmp_path_factory, name: str) -> tuple[Path, list[StackPlan]]:
    """The project with the named settings: keys set once on the primary there, the others in every stack file."""
    project = copy_project(tmp_path_factory.mktemp(name) / "project")
    settings = dict(parse(s) for s in PROJECTS[name])
    for stack in STACKS:
        edit_stack(project, stack, **{k: v for k, v in settings.items()
                                      if stack == "us-east" or k not in PRIMARY_ONLY_KEYS})
    return project, Engine(project).plan_all()


@pytest.fixture(scope="module")
def aurora(tmp_path_factory) -> tuple[Path, list[StackPlan]]:
    return plan_project(tmp_path_factory, "aurora")


@pytest.fixture(scope="module")
def rds(tmp_path_factory) -> tuple[Path, list[StackPlan]]:
    return plan_project(tmp_path_factory, "rds")


def test_every_documented_setting_is_planned() -> None:
    documented = documented_settings()
    planned = {s for settings in PROJECTS.values() for s in settings}
    assert {s: where for s, where in documented.items() if s not in planned} == {}
    # ... and nothing is planned that the docs do not show.
    assert sorted(planned - set(documented)) == []
    # The examples the issue names are among them.
    for setting in ("hse:cacheGlobalDatastore: true", "hse:dbEngine: rds-postgres", "hse:cdnProvider: cloudflare",
                    "hse:cdnProvider: fastly", "hse:edgeHealthCheckInterval: 10",
                    "hse:edgeTenantRouting: [acme=eu-west@EU]", "hse:cdnImageOptimization: false"):
        assert setting in documented, setting


def test_the_readmes_fourth_region_is_the_one_the_session_plans() -> None:
    # The README's block is conftest's FOURTH_REGION, so its plan is shared with the other suites.
    assert readme_stack_file() == {"config": {f"hse:{k}": v for k, v in FOURTH_REGION.items()}}


def test_the_readmes_fourth_region_passes_every_mandatory_policy_and_flow(four_region_project, four_region_plans) -> None:
    plans = list(four_region_plans.values())
    assert [p.stack for p in plans] == ["us-east", "eu-west", "ap-se", "au"]
    assert gate(plans, four_region_project) == {"us-east": [], "eu-west": [], "ap-se": [], "au": []}
    assert blocked_flows(plans) == []
    # Defaults adapt to the new region rather than the README growing caveats: a secondary's
    # two readers over two AZs, its own cache, peered with every earlier region.
    readers = four_region_plans["au"].find("aws:rds/clusterInstance:ClusterInstance")
    assert len(readers) == 2
    assert {r.input("availabilityZone") for r in readers} == {"ap-southeast-2a", "ap-southeast-2b"}
    assert four_region_plans["au"].single(GROUP).input("replicasPerNodeGroup") == 1


def test_the_aurora_examples_pass_every_mandatory_policy_and_flow(aurora) -> None:
    project, plans = aurora
    assert gate(plans, project) == {"us-east": [], "eu-west": [], "ap-se": []}
    assert blocked_flows(plans) == []


def test_the_rds_examples_pass_every_mandatory_policy_and_flow(rds) -> None:
    project, plans = rds
    assert gate(plans, project) == {"us-east": [], "eu-west": [], "ap-se": []}
    assert blocked_flows(plans) == []



def test_the_global_datastore_example_joins_each_secondary_without_restating_the_datastore(aurora) -> None:
    _, plans = aurora
    by_stack = {p.stack: p for p in plans}
    datastore = by_stack["us-east"].single(DATASTORE)
    primary = by_stack["us-east"].single(GROUP)
    assert datastore.input("primaryReplicationGroupId") == primary.id
    assert (primary.input("atRestEncryptionEnabled"), primary.input("transitEncryptionMode"),
            primary.input("numNodeGroups")) == (True, "required", 3)
    for stack in ("eu-west", "ap-se"):
        member = by_stack[stack].single(GROUP)
        assert member.input("globalReplicationGroupId") == datastore.output("globalReplicationGroupId")
        assert [k for k in ("atRestEncryptionEnabled", "transitEncryptionEnabled", "transitEncryptionMode",
                            "numNodeGroups", "nodeType", "engineVersion", "parameterGroupName")
                if member.input(k) is not None] == []
        assert member.input("replicasPerNodeGroup") == 1


@pytest.mark.parametrize("change,message", [
    ({"atRestEncryptionEnabled": False}, "elasticache-at-rest-encryption: ElastiCache replication group must be "
                                         "encrypted at rest (inherited from the Global Datastore's primary)."),
    ({"transitEncryptionMode": "preferred"}, "elasticache-in-transit-encryption: ElastiCache replication group must "
                                             "require encryption in transit (inherited from the Global Datastore's "
                                             "primary)."),
    ({"numNodeGroups": 2}, "redis-cluster-topology: Redis cluster must have at least 3 shards with 1 replica each "
                           "(found 2 × 1) (inherited from the Global Datastore's primary)."),
])
def test_a_member_fails_with_its_datastores_primary(aurora, change, message) -> None:
    project, plans = aurora
    broken = copy.deepcopy(plans)
    broken[0].single(GROUP).inputs.update(change)
    found = gate(broken, project)
    assert found["eu-west"] == [message] and found["ap-se"] == [message]
    assert message.split(": ", 1)[0] in " ".join(found["us-east"])


def test_the_rds_examples_secondaries_read_their_replica_without_a_proxy(rds) -> None:
    _, plans = rds
    by_stack = {p.stack: p for p in plans}
    assert len(by_stack["us-east"].find("aws:rds/proxy:Proxy")) == 1
    for stack in ("eu-west", "ap-se"):
        assert by_stack[stack].find("aws:rds/proxy:Proxy") == []
        replica = by_stack[stack].single("aws:rds/instance:Instance")
        assert replica.input("replicateSourceDb")
    reads = {r.stack: [h.name for h in r.hops] for r in verify(plans, flows=["read"])}
    assert "eu-west app → database: sign-in" in reads["eu-west"]
    assert "us-east app → proxy: sign-in" in reads["us-east"]


def test_a_members_cost_is_its_datastores_shape_times_its_own_replicas(aurora) -> None:
    _, plans = aurora
    by_stack = {p.stack: p for p in plans}
    primary = by_stack["us-east"].single(GROUP)
    size, shards = primary.input("nodeType"), primary.input("numNodeGroups")
    hourly = prices()["hourly"]["elasticache"][size] * prices()["hoursPerMonth"]
    for stack, premium in (("eu-west", 1.10), ("ap-se", 1.15)):
        member = by_stack[stack].single(GROUP)
        nodes = shards * (1 + member.input("replicasPerNodeGroup"))
        assert nodes == 6
        priced = [(what, usd) for _, what, usd in estimate(by_stack[stack], peers=plans).items if "Redis" in what]
        assert priced == [(f"Redis 6 × {size} (Global Datastore member)", round(nodes * hourly * premium, 2))]
        # Without the primary's plan the member is not guessed: it is named as unpriced.
        alone = estimate(by_stack[stack])
        assert [what for _, what, _ in alone.items if "Redis" in what] == []
        assert alone.unpriced == {"Global Datastore member (its size is its primary's, in a stack not planned here)"}
