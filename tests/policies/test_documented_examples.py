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
from infra.flows import verify
from policies.runner import check_plan
from tests.conftest import PROJECT_DIR, STACKS, copy_project, edit_stack

DOCS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
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


@pytest.fixture(scope="module")
def four_regions(tmp_path_factory) -> tuple[Path, list[StackPlan]]:
    project = copy_project(tmp_path_factory.mktemp("readme-au") / "project")
    (project / "Pulumi.au.yaml").write_text(yaml.safe_dump(readme_stack_file(), sort_keys=False))
    return project, Engine(project).plan_all()


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


def test_the_readmes_fourth_region_passes_every_mandatory_policy_and_flow(four_regions) -> None:
    project, plans = four_regions
    assert [p.stack for p in plans] == ["us-east", "eu-west", "ap-se", "au"]
    assert gate(plans, project) == {"us-east": [], "eu-west": [], "ap-se": [], "au": []}
    assert blocked_flows(plans) == []


def test_the_aurora_examples_pass_every_mandatory_policy_and_flow(aurora) -> None:
    project, plans = aurora
    assert gate(plans, project) == {"us-east": [], "eu-west": [], "ap-se": [], }
    assert blocked_flows(plans) == []


def test_the_rds_examples_pass_every_mandatory_policy_and_flow(rds) -> None:
    project, plans = rds
    assert gate(plans, project) == {"us-east": [], "eu-west": [], "ap-se": []}
    assert blocked_flows(plans) == []
