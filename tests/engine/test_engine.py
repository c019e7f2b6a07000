"""The offline engine: what it records, how it answers, and that a region is only a stack file."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

import io

from infra.cli.main import make_console
from infra.cli.render import Renderer
from infra.domain.contract import RegionExports
from infra.engine import Engine
from infra.engine.plan import SECRET_SIG, SIG_KEY
from infra.engine.schema import is_taggable
from infra.domain.naming import DEFAULT_TAG_KEYS
from tests.conftest import STACKS, edit_stack

ROLES = {"us-east": "primary", "eu-west": "secondary", "ap-se": "secondary"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_the_default_tags(plans, stack) -> None:
    plan = plans[stack]
    taggable = [r for r in plan.managed() if r.custom and is_taggable(r.type)]
    # Guard against a taggability check that silently matches nothing.
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:iam/role:Role", "aws:cloudwatch/logGroup:LogGroup",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"} <= {r.type for r in taggable}
    for r in taggable:
        tags = r.output("tagsAll")
        region = plan.get(r.provider_urn).input("region")
        expected = {"project": "hse-digital", "stack": stack, "region": region, "role": ROLES[stack],
                    "environment": "production", "managed-by": "pulumi", "cost-center": "hse-platform"}
        assert {k: tags.get(k) for k in DEFAULT_TAG_KEYS} == expected, r.urn


@pytest.mark.parametrize("stack", STACKS)
def test_every_cloud_resource_names_an_explicit_regional_provider(plans, stack) -> None:
    plan = plans[stack]
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    for r in plan.managed():
        if r.custom:
            package = r.type.split(":", 1)[0]
            assert r.provider_urn in providers, f"{r.urn} has no explicit provider"
            assert providers[r.provider_urn].type == f"pulumi:providers:{package}", r.urn
            assert r.provider.endswith("::" + providers[r.provider_urn].id)


@pytest.mark.parametrize("stack", STACKS)
def test_components_use_hse_tokens_and_every_resource_has_a_parent(plans, stack) -> None:
    plan = plans[stack]
    for r in plan.resources:
        if r is not plan.root:
            assert r.parent, f"{r.urn} has no parent"
        if not r.custom and r is not plan.root:
            assert r.type.split(":")[:2] in (["hse", "network"], ["hse", "security"], ["hse", "data"],
                                             ["hse", "cache"], ["hse", "edge"], ["hse", "storage"],
                                             ["hse", "workloads"], ["hse", "observability"], ["hse", "ops"]), r.type
            assert r.outputs, f"component {r.urn} registered no outputs"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_outputs_fulfil_the_region_contract(plans, stack) -> None:
    exports, problems = RegionExports.parse(plans[stack].outputs)
    assert problems == []
    assert exports.stack == stack and exports.role == ROLES[stack]
    assert len(exports.private_route_table_ids) == 4
    vpc = plans[stack].find("aws:ec2/vpc:Vpc")[0]
    assert exports.vpc_id == vpc.id


def test_the_contract_refuses_colours_without_their_objects(plans) -> None:
    outputs = plans["eu-west"].outputs
    assert RegionExports.parse({**outputs, "appHpaNames": {}})[1] == [
        "outputs: appDeploymentNames, appHpaNames and appServiceNames name different colours "
        "(['blue'], [], ['blue'])"]
    assert RegionExports.parse({**outputs, "appActiveColour": "green"})[1] == [
        "outputs: appActiveColour 'green' has no Deployment (['blue'])"]
    missing = {k: v for k, v in outputs.items() if k != "appNamespace"}
    assert RegionExports.parse(missing)[1] == ["output 'appNamespace' is missing"]


def test_stack_references_resolve_from_the_earlier_stacks(plans) -> None:
    refs = plans["ap-se"].find("pulumi:pulumi:StackReference")
    assert sorted(r.id for r in refs) == ["organization/hse/eu-west", "organization/hse/us-east"]
    for ref in refs:
        assert ref.external and ref.output("outputs") == plans[ref.id.rsplit("/", 1)[1]].outputs
        assert ref.to_export()["external"] is True


def test_export_has_the_shape_of_pulumi_stack_export(plans) -> None:
    export = json.loads(json.dumps(plans["eu-west"].to_export()))
    assert export["version"] == 3
    resources = export["deployment"]["resources"]
    stack = resources[0]
    assert stack["type"] == "pulumi:pulumi:Stack" and stack["custom"] is False
    assert stack["outputs"]["vpcCidr"] == "10.1.0.0/16"
    seen = set()
    for r in resources:
        assert {"urn", "type", "custom"} <= set(r)
        for dep in r.get("dependencies", []) + ([r["parent"]] if "parent" in r else []):
            assert dep in seen, f"{r['urn']} listed before its dependency {dep}"
        seen.add(r["urn"])
    vpc = next(r for r in resources if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["cidrBlock"] == "10.1.0.0/16" and "cidr_block" not in vpc["inputs"]
    assert vpc["id"].startswith("vpc-") and vpc["provider"].split("::")[-2].startswith("hse-eu-west-aws-eu-west-1")


def test_a_fourth_region_is_only_a_new_stack_file(four_region_project: Path, four_region_plans) -> None:
    assert Engine(four_region_project).deploy_order() == ["us-east", "eu-west", "ap-se", "au"]
    assert list(four_region_plans) == ["us-east", "eu-west", "ap-se", "au"]
    plan = four_region_plans["au"]
    assert len(plan.find("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")) == 3
    assert len(plan.find("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")) == 3
    assert sorted(p.input("region") for p in plan.find("pulumi:providers:aws")) == \
        ["ap-southeast-1", "ap-southeast-2", "eu-west-1", "us-east-1"]
    assert plan.outputs["vpcCidr"] == "10.3.0.0/16"


def test_plans_are_reproducible(plans, tmp_path: Path) -> None:
    again = Engine(Path(__file__).resolve().parents[2], use_cache=False).plan("us-east")
    assert again is not plans["us-east"]
    assert again.to_export() == plans["us-east"].to_export()


def test_a_shared_plan_follows_the_files(project_copy: Path) -> None:
    first = Engine(project_copy).plan("us-east")
    assert Engine(project_copy).plan("us-east") is first  # unchanged files: evaluated once
    edit_stack(project_copy, "us-east", flowLogRetentionDays=90)
    second = Engine(project_copy).plan("us-east")
    assert second is not first
    assert second.one("aws:cloudwatch/logGroup:LogGroup", "hse-us-east-flow-logs-group").input("retentionInDays") == 90


def _secret_program(project_dir: Path) -> None:
    provider = aws.Provider("p", region="us-east-1")
    password = pulumi.Config("hse").require_secret("dbPassword")
    aws.ssm.Parameter("param", type="SecureString", value=password, opts=pulumi.ResourceOptions(provider=provider))
    pulumi.export("password", password)
    pulumi.export("plain", "visible")


def test_secrets_are_redacted_in_the_export(project_copy: Path) -> None:
    # The value is encrypted in the stack file; offline it stands in as a marked secret.
    edit_stack(project_copy, "us-east", dbPassword={"secure": "v1:AAAAabcd"})
    plan = Engine(project_copy, program=_secret_program).plan("us-east")
    text = json.dumps(plan.to_export())
    assert "offline-secret" not in text
    (param,) = plan.find("aws:ssm/parameter:Parameter")
    assert param.input("value") == "offline-secret:hse:dbPassword"  # revealed only on request
    exported = param.to_export()["inputs"]["value"]
    assert exported == {SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}
    assert plan.root.to_export()["outputs"]["plain"] == "visible"
    assert plan.root.to_export()["outputs"]["password"][SIG_KEY] == SECRET_SIG
    buffer = io.StringIO()
    render = Renderer(make_console(buffer, no_color=True))
    render.tree(plan)
    render.summary(plan, verbose=True)
    printed = buffer.getvalue()
    assert any(line.split() == ["password", "[secret]"] for line in printed.splitlines())
    assert "offline-secret" not in printed


def test_a_resource_on_the_default_provider_is_refused(project_copy: Path) -> None:
    def program(project_dir: Path) -> None:
        aws.s3.Bucket("ambient")

    with pytest.raises(Exception, match="uses the default aws provider, which this project disables"):
        Engine(project_copy, program=program).plan("us-east")


def test_every_default_provider_is_refused_with_a_star(project_copy: Path) -> None:
    import yaml

    path = project_copy / "Pulumi.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["pulumi:disable-default-providers"] = {"value": ["*"]}
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    def program(project_dir: Path) -> None:
        aws.s3.Bucket("ambient")

    with pytest.raises(Exception, match="uses the default aws provider, which this project disables"):
        Engine(project_copy, program=program).plan("us-east")


def test_unknown_data_sources_fail_loudly(project_copy: Path) -> None:
    def program(project_dir: Path) -> None:
        provider = aws.Provider("p", region="us-east-1")
        aws.ec2.get_vpc(default=True, opts=pulumi.InvokeOptions(provider=provider))

    with pytest.raises(Exception, match="no answer for data source aws:ec2/getVpc:getVpc"):
        Engine(project_copy, program=program).plan("us-east")


def test_the_pulumi_entry_point_declares_the_same_plan(plans) -> None:
    """`infra/__main__.py`, run as Pulumi's language host runs it, is the program the engine plans."""
    import runpy

    project_dir = Path(__file__).resolve().parents[2]

    def as_pulumi_runs_it(_: Path) -> None:
        runpy.run_path(str(project_dir / "infra"), run_name="__main__")

    plan = Engine(project_dir, program=as_pulumi_runs_it).plan("us-east")
    assert plan.to_export() == plans["us-east"].to_export()


def test_random_password_is_secret_and_reproducible(project_copy: Path) -> None:
    import pulumi_random as random

    def program(project_dir: Path) -> None:
        provider = random.Provider("random")
        password = random.RandomPassword("db", length=24, special=False, opts=pulumi.ResourceOptions(provider=provider))
        pulumi.export("length", password.result.apply(len))

    first = Engine(project_copy, program=program).plan("us-east")
    second = Engine(project_copy, program=program).plan("us-east")
    (password,) = first.find("random:index/randomPassword:RandomPassword")
    assert len(password.output("result")) == 24 and password.output("result").isalnum()
    assert password.to_export()["outputs"]["result"] == {SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}
    assert first.outputs["length"] == 24
    assert second.find("random:index/randomPassword:RandomPassword")[0].output("result") == password.output("result")


def test_a_six_region_topology_from_the_stack_files(tmp_path: Path) -> None:
    from infra.config.synthetic import write_topology

    stacks = write_topology(Path(__file__).resolve().parents[2], tmp_path / "six", 6)
    assert stacks[0] == "s00-us-east-1" and len(stacks) == 6
    engine = Engine(tmp_path / "six")
    plan = engine.plan(stacks[-1])
    assert len(plan.find("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")) == 5
    assert plan.outputs["vpcCidr"] == "10.5.0.0/16"
    assert engine.plan(stacks[0]).outputs["role"] == "primary"
