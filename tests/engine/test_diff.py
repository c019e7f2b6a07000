"""The plan diff on exports: what counts as a create, an update and a delete."""

from __future__ import annotations

import copy
import json

from infra.engine.diff import ABSENT, deleted_stack, diff_exports


def _resource(export: dict, type_: str) -> dict:
    return next(r for r in export["deployment"]["resources"] if r["type"] == type_)


def test_a_move_to_another_provider_replaces_the_resource_and_its_dependents_see_unknowns(plans) -> None:
    old = plans["eu-west"].to_export()
    new = copy.deepcopy(old)
    vpc = _resource(new, "aws:ec2/vpc:Vpc")
    vpc["provider"] = vpc["provider"].replace("eu-west-1", "us-east-1")
    diff = diff_exports("eu-west", old, new)
    replaced = {r.type: r for r in diff.replaces}
    assert replaced["aws:ec2/vpc:Vpc"].forced_by == ["(provider)"]
    # A subnet takes the VPC's id: unknown until the new VPC exists, and vpcId forces a new subnet.
    subnet = replaced["aws:ec2/subnet:Subnet"]
    assert [(c.path, c.new, c.forces) for c in subnet.changes] == [("vpcId", "(known after deploy)", "vpcId")]
    assert diff.creates == [] and diff.deletes == [] and diff.changed


def test_an_output_only_change_is_a_change(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    _resource(new, "pulumi:pulumi:Stack")["outputs"]["extra"] = "value"
    diff = diff_exports("us-east", old, new)
    assert diff.changed and diff.updates == [] and [c.path for c in diff.outputs] == ["extra"]
    assert diff_exports("us-east", old, copy.deepcopy(old)).changed is False


def test_an_input_change_lists_old_and_new(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    _resource(new, "aws:ec2/vpc:Vpc")["inputs"]["tags"]["Name"] = "renamed"
    (update,) = diff_exports("us-east", old, new).updates
    (change,) = update.changes
    assert (change.path, change.old, change.new) == ("tags.Name", "hse-us-east-vpc", "renamed")


def _named(export: dict, name: str) -> dict:
    return next(r for r in export["deployment"]["resources"] if r["urn"].endswith("::" + name))


def test_lists_are_compared_element_by_element() -> None:
    def export(rules: list) -> dict:
        return {"deployment": {"resources": [{"urn": "urn:pulumi:s::p::aws:x/y:Y::r", "type": "aws:x/y:Y",
                                              "custom": True, "inputs": {"rules": rules}}]}}

    old = export([{"name": "a", "action": "allow"}, {"name": "b", "action": "allow"}])
    new = export([{"name": "a", "action": "allow"}, {"name": "b", "action": "block"}, {"name": "c"}])
    (update,) = diff_exports("s", old, new, forces=lambda t, p: None).updates
    assert [(c.path, c.kind) for c in update.changes] == [("rules[1].action", "change"), ("rules[2]", "add")]
    assert update.changes[1].new == {"name": "c"}


def test_a_json_string_is_diffed_as_json(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    role = next(r for r in new["deployment"]["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy")
    document = json.loads(role["inputs"]["policy"])
    document["Statement"][0]["Action"] = ["s3:GetObject"]
    role["inputs"]["policy"] = json.dumps(document)
    (update,) = diff_exports("us-east", old, new).updates
    assert update.changes and all(c.path.startswith("policy(json).Statement[0].Action") for c in update.changes)
    assert not any(isinstance(c.old, str) and c.old.startswith("{") for c in update.changes)


def test_a_force_new_property_replaces_and_is_named(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    _resource(new, "aws:ec2/vpc:Vpc")["inputs"]["cidrBlock"] = "10.9.0.0/16"
    diff = diff_exports("us-east", old, new)
    vpc = next(r for r in diff.replaces if r.type == "aws:ec2/vpc:Vpc")
    assert vpc.forced_by == ["cidrBlock"] and not vpc.delete_before_replace
    assert diff.counts()["replace"] == len(diff.replaces) > 1  # the subnets follow their VPC
    assert diff.to_json()["replace"][0]["forcedBy"] == ["cidrBlock"]


def test_delete_before_replace_and_replace_on_changes_come_from_the_resource_options(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    log = next(r for r in new["deployment"]["resources"] if r["type"] == "aws:cloudwatch/logGroup:LogGroup")
    log["inputs"]["retentionInDays"] = 1
    assert [r.type for r in diff_exports("us-east", old, new).updates] == ["aws:cloudwatch/logGroup:LogGroup"]
    log["replaceOnChanges"], log["deleteBeforeReplace"] = ["retentionInDays"], True
    replaced = next(r for r in diff_exports("us-east", old, new).replaces if r.urn == log["urn"])
    assert replaced.forced_by == ["retentionInDays"] and replaced.delete_before_replace


def test_deleting_a_protected_resource_is_refused_in_pulumis_words(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    zone = _resource(new, "aws:route53/zone:Zone")
    new["deployment"]["resources"] = [r for r in new["deployment"]["resources"] if r is not zone]
    diff = diff_exports("us-east", old, new)
    (refusal,) = [r for r in diff.refusals if r.type == "aws:route53/zone:Zone"]
    assert refusal.who == "pulumi" and refusal.step == "delete"
    assert refusal.message.startswith(f'unable to delete resource "{zone["urn"]}"\nas it is currently marked '
                                      "for protection.")
    assert f"`pulumi state unprotect '{zone['urn']}'`" in refusal.message
    assert [(step, r.type) for step, r in diff.data_loss] == [("delete", "aws:route53/zone:Zone")]


def test_a_replacement_is_refused_only_while_both_plans_protect(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    table = _resource(new, "aws:dynamodb/table:Table")
    table["replaceOnChanges"] = ["hashKey"]
    table["inputs"]["hashKey"] = "id"
    diff = diff_exports("us-east", old, new)
    assert [(r.who, r.step) for r in diff.refusals] == [("pulumi", "replace"), ("aws", "replace")]
    assert "unable to replace resource" in diff.refusals[0].message
    assert "deletionProtectionEnabled on: AWS refuses to delete it" in diff.refusals[1].message
    table["protect"] = False  # unprotecting and replacing in one update: Pulumi allows it, AWS still refuses
    assert [r.who for r in diff_exports("us-east", old, new).refusals] == ["aws"]
    table["inputs"]["deletionProtectionEnabled"] = False
    _resource(old, "aws:dynamodb/table:Table")["inputs"]["deletionProtectionEnabled"] = False
    diff = diff_exports("us-east", old, new)
    assert diff.refusals == [] and [s for s, _ in diff.data_loss] == ["replace"]


def test_data_loss_is_accepted_only_by_name(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    buckets = [r for r in new["deployment"]["resources"] if r["type"] == "aws:s3/bucket:Bucket"]
    new["deployment"]["resources"] = [r for r in new["deployment"]["resources"] if r is not buckets[0]]
    diff = diff_exports("us-east", old, new)
    (loss,) = diff.unaccepted_data_loss
    diff.accepted = frozenset({loss[1].name})
    assert diff.unaccepted_data_loss == [] and diff.to_json()["dataLoss"][0]["accepted"] is True
    diff.accepted = frozenset({"another-bucket"})
    assert diff.unaccepted_data_loss == [loss]


def test_an_updated_resource_is_not_data_loss(plans) -> None:
    old = plans["us-east"].to_export()
    new = copy.deepcopy(old)
    _resource(new, "aws:dynamodb/table:Table")["inputs"]["tags"] = {"Owner": "ops"}
    diff = diff_exports("us-east", old, new)
    assert [r.type for r in diff.updates] == ["aws:dynamodb/table:Table"] and diff.data_loss == []
    assert diff.refusals == []


def test_a_large_output_is_summarised_by_part_and_by_new_nearest_region() -> None:
    from infra.engine.diff import Change
    from infra.engine.diff_text import output_lines

    changes = [Change(f"routingTable.nearest.{cc}[0]", "us-east", "au") for cc in ("AU", "NZ", "FJ")]
    changes += [Change(f"routingTable.nearest.{cc}[3]", ABSENT, "ap-se") for cc in ("AU", "NZ", "FJ", "BR")]
    changes += [Change("routingTable.version", "a", "b"), Change("routingTable.zones.OC", ABSENT, ["au"]),
                Change("routingTableVersion", "a", "b")]
    lines = list(output_lines(changes, verbose=False))
    assert lines == ["~ routingTable: 9 values changed; entries changed per part: nearest 4, version 1, zones 1",
                     "    countries whose nearest region changed, by the new one: au 3",
                     "    (--verbose lists every path)",
                     '~ routingTableVersion: "a" → "b"']
    assert len(list(output_lines(changes, verbose=True))) == 10
    assert len(list(output_lines(changes[:8], verbose=False))) == 8  # up to OUTPUT_DETAIL: every path


def test_a_retained_resource_leaves_the_stack_without_an_aws_delete_or_a_loss(plans) -> None:
    old = plans["us-east"].to_export()
    table = _resource(old, "aws:dynamodb/table:Table")
    table["retainOnDelete"], table["protect"] = True, False
    new = copy.deepcopy(old)
    new["deployment"]["resources"] = [r for r in new["deployment"]["resources"] if r["urn"] != table["urn"]]
    diff = diff_exports("us-east", old, new)
    (gone,) = [r for r in diff.deletes if r.urn == table["urn"]]
    assert gone.retained and diff.data_loss == [] and diff.refusals == []
    assert diff.to_json()["delete"][0] == {"urn": table["urn"], "type": "aws:dynamodb/table:Table", "retained": True}
    table["retainOnDelete"] = False  # the same delete without the option: AWS refuses, data is lost
    diff = diff_exports("us-east", old, new)
    assert [r.who for r in diff.refusals] == ["aws"] and [s for s, _ in diff.data_loss] == ["delete"]


# Regression tests on small hand-written exports: each pins one rule of the diff.

_T = "aws:x/y:Y"


def _export(*resources: dict, outputs: dict | None = None) -> dict:
    stack = {"urn": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "type": "pulumi:pulumi:Stack",
             "outputs": outputs or {}}
    return {"deployment": {"resources": [stack, *resources]}}


def _res(name: str, type_: str = _T, **fields) -> dict:
    return {"urn": f"urn:pulumi:s::p::{type_}::{name}", "type": type_, "custom": True, **fields}


def _no_force(type_: str, prop: str) -> None:
    return None


def test_forced_by_names_only_the_forcing_changes() -> None:
    old = _export(_res("r", inputs={"a": 1, "b": 1}))
    new = _export(_res("r", inputs={"a": 2, "b": 2}))
    (r,) = diff_exports("s", old, new, forces=lambda t, p: p if p == "b" else None).replaces
    assert [c.path for c in r.changes] == ["a", "b"] and r.forced_by == ["b"]


def test_replace_on_changes_star_and_json_documents_force_by_property_name() -> None:
    old = _export(_res("r", inputs={"policy": '{"A": 1}', "n": 1}))
    new = _export(_res("r", inputs={"policy": '{"A": 2}', "n": 1}))
    (r,) = diff_exports("s", old, new, forces=lambda t, p: p if p == "policy" else None).replaces
    assert [(c.path, c.forces) for c in r.changes] == [("policy(json).A", "policy")]
    new["deployment"]["resources"][1]["replaceOnChanges"] = ["*"]
    (r,) = diff_exports("s", old, new, forces=_no_force).replaces
    assert r.forced_by == ["policy(json).A"] and r.changes[0].forces == "(replaceOnChanges)"


def test_a_json_array_string_is_diffed_as_json() -> None:
    old = _export(_res("r", inputs={"item": '[1, 2]'}))
    new = _export(_res("r", inputs={"item": '[1, 3]'}))
    (u,) = diff_exports("s", old, new, forces=_no_force).updates
    assert [(c.path, c.old, c.new) for c in u.changes] == [("item(json)[1]", 2, 3)]


def test_a_secret_is_one_redacted_change() -> None:
    sig = "4dabf18193072939515e22adb298388d"
    secret = lambda v: {sig: "1b47061264138c4ac30d75fd1eb44270", "value": v}  # noqa: E731
    old = _export(_res("r", inputs={"password": {"a": 1}}))
    new = _export(_res("r", inputs={"password": secret("hunter2")}))
    (u,) = diff_exports("s", old, new, forces=_no_force).updates
    assert [(c.path, c.old, c.new) for c in u.changes] == [("password", {"a": 1}, "[secret]")]


def test_parent_and_provider_bindings_are_changes() -> None:
    old = _export(_res("r", parent="urn:a", inputs={}),
                  _res("c", type_="my:comp:C", custom=False, provider="urn:p::aws::one", inputs={}))
    new = _export(_res("r", parent="urn:b", inputs={}),
                  _res("c", type_="my:comp:C", custom=False, provider="urn:q::aws::two", inputs={}))
    diff = diff_exports("s", old, new, forces=_no_force)
    assert [[(c.path, c.old, c.new, c.forces) for c in u.changes] for u in diff.updates] == [
        [("(parent)", "urn:a", "urn:b", None)], [("(provider)", "urn:p::aws::one", "urn:q::aws::two", None)]]
    assert diff.replaces == []


def test_no_earlier_plan_is_all_creates_without_a_baseline() -> None:
    diff = diff_exports("s", None, _export(_res("r", inputs={}), outputs={"o": 1}))
    assert diff.baseline is False and [r.name for r in diff.creates] == ["r"]
    assert [(c.path, c.kind) for c in diff.outputs] == [("o", "add")]
    assert diff_exports("s", _export(), _export()).baseline is True


def test_data_loss_is_accepted_by_urn_too() -> None:
    bucket = _res("b", type_="aws:s3/bucket:Bucket", inputs={})
    diff = diff_exports("s", _export(bucket), _export())
    diff.accepted = frozenset({bucket["urn"]})
    assert diff.unaccepted_data_loss == [] and diff.is_accepted(diff.deletes[0])


def test_to_json_spells_out_each_step() -> None:
    tbl = "aws:dynamodb/table:Table"
    ids = {"urn": f"urn:pulumi:s::p::{tbl}::t", "type": tbl}
    old = _export(_res("r", inputs={"a": 1, "gone": True}),
                  _res("t", type_=tbl, inputs={"hashKey": "a", "deletionProtectionEnabled": True}))
    new = _export(_res("r", inputs={"a": 2, "added": "x"}),
                  _res("t", type_=tbl, deleteBeforeReplace=True,
                       inputs={"hashKey": "b", "deletionProtectionEnabled": True}))
    doc = diff_exports("s", old, new, forces=lambda t, p: p if p == "hashKey" else None).to_json()
    assert doc["update"][0]["changes"] == [{"path": "a", "old": 1, "new": 2}, {"path": "added", "new": "x"},
                                           {"path": "gone", "old": True}]
    assert doc["replace"] == [{**ids, "forcedBy": ["hashKey"], "deleteBeforeReplace": True, "changes": [
        {"path": "hashKey", "old": "a", "new": "b", "forcesReplacement": "hashKey"}]}]
    assert doc["refused"] == [{**ids, "step": "replace", "by": "aws", "message": (
        "aws.dynamodb.Table t has deletionProtectionEnabled on: AWS refuses to delete it, so `pulumi up` would stop "
        "half-way (after creating the replacement); turn deletionProtectionEnabled off in one deployment first, then "
        "replace it in the next")}]
    assert doc["dataLoss"] == [{**ids, "step": "replace", "holds": "the table's items (the failover state)",
                                "accepted": False}]


def test_a_removed_stack_deletes_everything_and_protection_still_refuses() -> None:
    zone = _res("z", type_="aws:route53/zone:Zone", protect=True, inputs={})
    diff = deleted_stack("s", _export(zone, outputs={"o": 1}))
    assert [r.name for r in diff.deletes] == ["z"] and [(c.path, c.kind) for c in diff.outputs] == [("o", "remove")]
    assert [(f.who, f.step) for f in diff.refusals] == [("pulumi", "delete")]


def test_a_provider_resource_has_no_schema_to_force_a_replacement() -> None:
    old = _export(_res("aws", type_="pulumi:providers:aws", inputs={"region": "eu-west-1"}))
    new = _export(_res("aws", type_="pulumi:providers:aws", inputs={"region": "us-east-1"}))
    diff = diff_exports("s", old, new, forces=lambda t, p: p)
    assert [[(c.path, c.forces) for c in u.changes] for u in diff.updates] == [[("region", None)]] and not diff.replaces
