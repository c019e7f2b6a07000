"""The plan diff on exports: what counts as a create, an update and a delete."""

from __future__ import annotations

import copy

from infra.engine.diff import diff_exports


def _resource(export: dict, type_: str) -> dict:
    return next(r for r in export["deployment"]["resources"] if r["type"] == type_)


def test_a_provider_change_is_an_update_of_that_resource_only(plans) -> None:
    old = plans["eu-west"].to_export()
    new = copy.deepcopy(old)
    vpc = _resource(new, "aws:ec2/vpc:Vpc")
    vpc["provider"] = vpc["provider"].replace("eu-west-1", "us-east-1")
    diff = diff_exports("eu-west", old, new)
    assert [(r.type, [c.path for c in r.changes]) for r in diff.updates] == [("aws:ec2/vpc:Vpc", ["(provider)"])]
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
