"""What the README shows must plan and pass the gate: the fourth region, added by the stack
file the README prints and nothing else, passes every mandatory policy and every flow."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from infra.engine import Engine
from policies.runner import check_plan
from tests.conftest import PROJECT_DIR, copy_project


def readme_stack_file() -> dict:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("**Adding a region**", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return yaml.safe_load(block)


def test_the_readmes_fourth_region_passes_every_mandatory_policy(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "Pulumi.au.yaml").write_text(yaml.safe_dump(readme_stack_file(), sort_keys=False))
    engine = Engine(project)
    plans = engine.plan_all()
    assert [p.stack for p in plans] == ["us-east", "eu-west", "ap-se", "au"]
    for plan in plans:
        result = check_plan(plan, stack_config=engine.project.stack_file(plan.stack).config, peers=plans,
                            complete=True)
        assert [f"{f.policy}: {f.message}" for f in result.mandatory] == [], plan.stack
