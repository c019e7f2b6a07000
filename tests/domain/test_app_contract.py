"""The app-team contract: the committed schema matches the model, today's outputs satisfy
it, and the loader names what is missing or wrongly typed."""

from __future__ import annotations

import copy
import json

import pytest

from infra.domain import app_contract
from infra.domain.app_contract import APP_CONTRACT_VERSION, SCHEMA_FILE, AppContract, ContractError, load, parse


def _outputs(plan) -> dict:
    # What the program exports once it adds `appContractVersion` (see the wiring in docs/app-contract.md).
    return {**plan.outputs, "appContractVersion": APP_CONTRACT_VERSION}


def test_committed_schema_matches_the_model():
    assert SCHEMA_FILE.read_text() == app_contract.schema_text(), \
        "regenerate: python -m infra.domain.app_contract schema > docs/app-contract.schema.json"


def test_schema_names_every_field_by_its_output_key():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert set(schema["required"]) == {f.alias for f in AppContract.model_fields.values()}
    assert schema["x-contract-version"] == APP_CONTRACT_VERSION


@pytest.mark.parametrize("stack", ["us-east", "eu-west", "ap-se"])
def test_every_stack_satisfies_the_contract(plans, stack):
    contract = parse(_outputs(plans[stack]))
    assert (contract.stack, contract.db_port, contract.cache_port) == (stack, 5432, 6379)
    assert contract.regional_endpoint == f"{stack}.hse-digital.example.com"
    assert contract.app_host == "app.hse-digital.example.com"


def test_loader_reads_a_plan_file_and_stack_output_json(plans, tmp_path):
    export = copy.deepcopy(plans["eu-west"].to_export())
    root = next(r for r in export["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack")
    root["outputs"]["appContractVersion"] = APP_CONTRACT_VERSION
    (tmp_path / "eu-west.json").write_text(json.dumps(export))
    assert load(tmp_path / "eu-west.json").role == "secondary"
    (tmp_path / "out.json").write_text(json.dumps(_outputs(plans["us-east"])))
    assert load(tmp_path / "out.json").role == "primary"


def test_missing_and_wrongly_typed_fields_are_named(plans):
    outputs = _outputs(plans["us-east"])
    del outputs["dbWriterEndpoint"]
    outputs["dbPort"] = "five-four-three-two"
    with pytest.raises(ContractError) as error:
        parse(outputs, "us-east.json")
    assert error.value.problems == [
        "output 'dbWriterEndpoint' is missing",
        "output 'dbPort': Input should be a valid integer, unable to parse string as an integer "
        "(got 'five-four-three-two')"]
    assert str(error.value).startswith("us-east.json: not a valid app contract (version 1.0):\n  - output")


def test_outputs_without_the_version_say_so(plans):
    outputs = {k: v for k, v in plans["us-east"].outputs.items() if k != "appContractVersion"}
    with pytest.raises(ContractError) as error:
        parse(outputs)
    assert error.value.problems == ["output 'appContractVersion' is missing"]
    assert parse(plans["us-east"].outputs).app_contract_version == "1.0"


def test_a_new_major_version_is_refused(plans):
    with pytest.raises(ContractError, match="is 2.0; this reader knows 1.x"):
        parse({**_outputs(plans["us-east"]), "appContractVersion": "2.0"})


def test_a_minor_version_is_accepted_and_extra_outputs_ignored(plans):
    assert parse({**_outputs(plans["us-east"]), "appContractVersion": "1.7", "newThing": 1}).app_contract_version \
        == "1.7"


@pytest.mark.parametrize("text, problem", [("{not json", "not JSON"), ("[1, 2]", "expected a JSON object")])
def test_unreadable_files(tmp_path, text, problem):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(ContractError, match=problem):
        load(path)


def test_command_line(plans, tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_outputs(plans["ap-se"])))
    assert app_contract.main(["check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: valid app contract 1.0 (ap-se, secondary)\n"
    assert app_contract.main(["check", str(tmp_path / "absent.json")]) == 1
    assert "cannot read it" in capsys.readouterr().err
    assert app_contract.main(["frobnicate"]) == 2
