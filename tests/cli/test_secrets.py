"""Secrets never appear in clear: not in any stack's export, not across a stack
reference, not in what the plan command prints or writes.

Each test collects the secret values it planted and scans the whole serialized output
for each of them, instead of checking the few places a secret is expected to be.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.cli.main import make_console
from infra.engine import Engine
from infra.engine.plan import SECRET_SIG, SIG_KEY
from infra.cli.render import Renderer
from tests.conftest import edit_stack

ENVELOPE = {SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}
PLANTED = "planted-secret-0f9a7c"


def _program(project_dir: Path) -> None:
    """us-east makes secrets; the secondaries read them through a stack reference and use them."""
    stack = pulumi.get_stack()
    provider = aws.Provider("aws", region="us-east-1")
    rnd = random.Provider("random")
    opts = pulumi.ResourceOptions(provider=provider)
    if stack == "us-east":
        password = random.RandomPassword("db", length=32, opts=pulumi.ResourceOptions(provider=rnd))
        api_key = pulumi.Config("hse").require_secret("apiKey")
        aws.ssm.Parameter("db", type="SecureString", value=password.result, opts=opts)
        pulumi.export("dbPassword", password.result)
        pulumi.export("apiKey", api_key)
        pulumi.export("nested", {"token": pulumi.Output.secret(PLANTED), "plain": "visible"})
    else:
        ref = pulumi.StackReference("primary", stack_name=f"{pulumi.get_organization()}/hse/us-east")
        aws.ssm.Parameter("copy", type="SecureString", value=ref.get_output("dbPassword"), opts=opts)
        pulumi.export("copiedPassword", ref.get_output("dbPassword"))
        pulumi.export("copiedNested", ref.get_output("nested"))


def _secrets(engine: Engine) -> set[str]:
    primary = engine.plan("us-east")
    (password,) = primary.find("random:index/randomPassword:RandomPassword")
    return {password.output("result"), password.output("bcryptHash"), "offline-secret:hse:apiKey", PLANTED}


def test_no_secret_in_any_export_or_printed_plan(project_copy: Path, tmp_path: Path) -> None:
    edit_stack(project_copy, "us-east", apiKey={"secure": "v1:AAAAencrypted"})
    engine = Engine(project_copy, program=_program)
    plans = engine.plan_all()
    secrets = _secrets(engine)
    assert len(secrets) == 4 and all(len(s) >= 20 for s in secrets)

    buffer = io.StringIO()
    render = Renderer(make_console(buffer, no_color=True))
    for plan in plans:
        render.tree(plan)
        render.summary(plan)
    texts = {plan.stack: json.dumps(plan.to_export()) for plan in plans} | {"printed": buffer.getvalue()}
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret appears in clear in {where}"


def test_secret_outputs_stay_secret_across_a_stack_reference(project_copy: Path) -> None:
    edit_stack(project_copy, "us-east", apiKey={"secure": "v1:AAAAencrypted"})
    engine = Engine(project_copy, program=_program)
    engine.plan("us-east")  # `apiKey` is no key of the real model, so the engine cannot learn the peers itself
    plan = engine.plan("eu-west")
    (ref,) = plan.find("pulumi:pulumi:StackReference")
    exported = ref.to_export()["outputs"]
    assert exported["secretOutputNames"] == ["apiKey", "dbPassword", "nested"]
    assert exported["outputs"]["dbPassword"] == ENVELOPE and exported["outputs"]["apiKey"] == ENVELOPE
    root = plan.root.to_export()["outputs"]
    assert root["copiedPassword"] == ENVELOPE
    # The whole output is secret once any part of it is, as the engine treats it.
    assert root["copiedNested"] == ENVELOPE
    (param,) = plan.find("aws:ssm/parameter:Parameter")
    assert param.to_export()["inputs"]["value"] == ENVELOPE
    # Revealed only on request, and equal to what us-east generated.
    assert param.input("value") == engine.plan("us-east").outputs["dbPassword"]


def test_the_json_summary_and_diff_hold_no_secret(project_copy: Path, tmp_path: Path) -> None:
    from infra.cli.main import summary_json
    from infra.engine.diff import diff_exports

    edit_stack(project_copy, "us-east", apiKey={"secure": "v1:AAAAencrypted"})
    engine = Engine(project_copy, program=_program)
    plans = engine.plan_all()
    diffs = [diff_exports(p.stack, None, p.to_export()) for p in plans]
    text = json.dumps(summary_json(plans, diffs))
    for secret in _secrets(engine):
        assert secret not in text
    assert '"copiedPassword": "[secret]"' in text


def test_secrets_nested_in_deployed_outputs_stay_secret(project_copy: Path, plans) -> None:
    """Outputs read from a state written elsewhere can hold a secret inside a map or a list."""
    from pulumi.runtime import rpc

    deployed = dict(plans["us-east"].outputs, nested={"token": rpc.wrap_rpc_secret(PLANTED)},
                    tokens=[rpc.wrap_rpc_secret(PLANTED)])
    plan = Engine(project_copy, deployed={"us-east": deployed}).plan("eu-west")
    (ref,) = plan.find("pulumi:pulumi:StackReference")
    assert ref.output("secretOutputNames") == ["nested", "tokens"]
    assert PLANTED not in json.dumps(plan.to_export())


def test_no_generated_password_of_the_real_program_appears_anywhere(plans, tmp_path: Path) -> None:
    from infra.cli.main import main

    passwords = {r.output("result") for plan in plans.values()
                 for r in plan.find("random:index/randomPassword:RandomPassword")}
    assert len(passwords) == 4  # the database master and one cache tenant per region
    out, report = tmp_path / "plan", tmp_path / "plan.json"
    printed = io.StringIO()
    assert main(["plan", "--all", "--out", str(out), "--json", str(report)], out=printed, err=io.StringIO()) == 0
    texts = {p.name: p.read_text() for p in out.iterdir()} | {"json": report.read_text(), "printed": printed.getvalue()}
    for where, text in texts.items():
        for password in passwords:
            assert password not in text, f"a generated password appears in clear in {where}"
