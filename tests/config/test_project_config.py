"""Pulumi.yaml and the config model agree, and the engine applies the CLI's own
project-config rules before it runs the program, with the CLI's wording."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import NAMESPACE, StackConfig, validate_stacks
from infra.engine import Engine
from infra.domain.problems import ConfigError
from infra.config.stackfiles import Project
from tests.conftest import PROJECT_DIR, edit_stack

PULUMI_TYPES = {"str": "string", "int": "integer", "bool": "boolean", "list[str]": "array"}


def _edit_project(project: Path, key: str, **changes) -> None:
    path = project / "Pulumi.yaml"
    data = yaml.safe_load(path.read_text())
    declaration = data["config"].setdefault(key, {})
    for name, value in changes.items():
        if value is None:
            declaration.pop(name, None)
        else:
            declaration[name] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _problems(project: Path, stack: str = "us-east") -> list[str]:
    with pytest.raises(ConfigError) as info:
        Engine(project).plan(stack)
    assert info.value.declared == [], "the CLI's checks come before the program declares anything"
    return [str(p) for p in info.value.problems]


def test_pulumi_yaml_declares_every_model_key_with_its_type_and_default() -> None:
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    own = {k: v for k, v in declared.items() if k.startswith(f"{NAMESPACE}:")}
    model = StackConfig.keys()
    assert set(own) == set(model)
    for key, (_, _, info) in model.items():
        annotation = str(info.annotation)
        expected_type = ("array" if annotation.startswith("list") else "string" if "Literal" in annotation
                         else PULUMI_TYPES[info.annotation.__name__])
        assert own[key]["type"] == expected_type, key
        if expected_type == "array":
            assert own[key]["items"] == {"type": "integer" if annotation == "list[int]" else "string"}, key
        assert own[key].get("description"), key
        if info.is_required():
            assert "default" not in own[key], f"{key} is required by the model but has a default in Pulumi.yaml"
        else:
            default = info.get_default(call_default_factory=True)
            assert own[key].get("default") == default, f"{key}: Pulumi.yaml and infra/config/ disagree"


def test_the_real_stack_files_pass_the_cli_rules() -> None:
    project = Project(PROJECT_DIR)
    assert project.declaration_problems() == []
    for stack in project.stack_names():
        assert project.cli_problems(stack) == [], stack


def test_a_declared_key_without_default_stops_the_stack(project_copy: Path) -> None:
    _edit_project(project_copy, "hse:appPort", default=None)
    assert _problems(project_copy) == [
        "Pulumi.us-east.yaml: hse:appPort: Stack 'us-east' is missing configuration value 'hse:appPort' "
        "(the CLI stops before the program runs); set it with `pulumi config set hse:appPort <value>` or give "
        "it a default: in Pulumi.yaml; valid: TCP port the application listens on behind the regional load "
        "balancer (default 8080)."]
    # The stack file setting it is enough.
    edit_stack(project_copy, "us-east", appPort=8081)
    assert Engine(project_copy).plan("us-east").outputs["stack"] == "us-east"


@pytest.mark.parametrize("key,declaration,message", [
    ("aws:region", {"type": "string", "value": "us-east-1"},
     "Pulumi.yaml: aws:region: Configuration key 'aws:region' is not namespaced by the project and should not define a type"),
    ("aws:region", {"description": "no value"},
     "Pulumi.yaml: aws:region: Configuration key 'aws:region' is namespaced and must provide an attribute 'value'"),
    ("aws:region", {"default": "us-east-1"},
     "Pulumi.yaml: aws:region: Configuration key 'aws:region' is not namespaced by the project and should not "
     "define a default value. Did you mean to use the 'value' attribute instead of 'default'?"),
    ("hse:extra", {"type": "string", "default": "a", "value": "b"},
     "Pulumi.yaml: hse:extra: project config 'hse:extra' cannot have both a 'default' and 'value' attribute"),
    ("hse:extra", {"type": "array", "default": []},
     "Pulumi.yaml: hse:extra: The configuration key 'hse:extra' declares an array but does not specify the "
     "underlying type via the 'items' attribute"),
    ("hse:extra", {"type": "integer", "default": "many"},
     "Pulumi.yaml: hse:extra: The default value specified for configuration key 'hse:extra' is not of the "
     "expected type 'integer'"),
])
def test_project_declarations_the_cli_rejects(project_copy: Path, key, declaration, message) -> None:
    data = yaml.safe_load((project_copy / "Pulumi.yaml").read_text())
    data["config"][key] = declaration
    (project_copy / "Pulumi.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert message in _problems(project_copy)


def test_a_foreign_key_with_a_value_is_accepted() -> None:
    declared = Project(PROJECT_DIR).declared_config()
    assert declared["pulumi:disable-default-providers"] == {"value": ["aws", "kubernetes", "cloudflare", "fastly", "random", "tls"]}


@pytest.mark.parametrize("value,accepted", [
    (3, True), ("3", True), ("-1", True), (True, False), ("3.0", False), (2.5, False), ("three", False), ([3], False),
    (" 3", False), ("3 ", False)])
def test_integer_keys_take_what_the_cli_takes(project_copy: Path, value, accepted) -> None:
    edit_stack(project_copy, "us-east", natGatewayCount=value)
    problems = Project(project_copy).cli_problems("us-east")
    type_error = [p for p in problems if "must be of type 'integer'" in p.message]
    assert (not type_error) == accepted, problems


@pytest.mark.parametrize("value,accepted", [(["us-east-1a"], True), ([1, 2], False), ("us-east-1a", False)])
def test_array_of_string_keys_take_what_the_cli_takes(project_copy: Path, value, accepted) -> None:
    edit_stack(project_copy, "us-east", availabilityZones=value)
    problems = Project(project_copy).cli_problems("us-east")
    assert (not problems) == accepted, problems


def test_a_secret_declaration_requires_an_encrypted_value(project_copy: Path) -> None:
    _edit_project(project_copy, "hse:costCenter", secret=True)
    edit_stack(project_copy, "us-east", costCenter="cc-plain")
    assert ("Pulumi.us-east.yaml: hse:costCenter: Stack 'us-east' with configuration key 'hse:costCenter' must be "
            "encrypted as it's secret; set it with `pulumi config set --secret hse:costCenter`") in \
        [str(p) for p in Project(project_copy).cli_problems("us-east")]


def test_a_key_in_an_unknown_namespace_is_an_error(project_copy: Path) -> None:
    edit_stack(project_copy, "eu-west", **{"hes:natGatewayCount": 2})
    (problem,) = _problems(project_copy, "eu-west")
    assert problem.startswith("Pulumi.eu-west.yaml: hes:natGatewayCount: unknown namespace 'hes', so nothing reads "
                              "this key; did you mean hse:natGatewayCount?")


def test_a_duplicate_yaml_key_is_an_error(project_copy: Path) -> None:
    path = project_copy / "Pulumi.eu-west.yaml"
    path.write_text(path.read_text() + "  hse:appInstanceCount: 4\n")
    configs, problems = validate_stacks(Project(project_copy), ["us-east", "eu-west", "ap-se"])
    assert [str(p) for p in problems] == ["Pulumi.eu-west.yaml: cannot be read as YAML: duplicate key "
                                          "'hse:appInstanceCount' (lines 8 and 12); each key may appear once"]


def test_an_encrypted_value_for_a_key_that_cannot_be_secret_is_rejected(project_copy: Path) -> None:
    # A tag value cannot be secret: it would be written in clear into every resource's tags.
    edit_stack(project_copy, "us-east", costCenter={"secure": "v1:AAAAencrypted"})
    assert _problems(project_copy) == [
        "Pulumi.us-east.yaml: hse:costCenter: is encrypted (secure:) but is not a secret: it is written in clear "
        "into names and tags; set it with `pulumi config set` without --secret"]


def test_pulumi_install_finds_the_pinned_requirements_in_the_program_folder() -> None:
    # `main: infra/`: the CLI reads requirements.txt from the program's folder.
    program = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["main"].rstrip("/")
    lines = [line.strip() for line in (PROJECT_DIR / program / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-r ../requirements.txt", "-c ../constraints.txt"]
    for line in lines:
        assert (PROJECT_DIR / program / line.split()[1]).resolve().is_file()
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "-r infra/requirements.txt" in makefile, "make setup must install what pulumi install installs"
