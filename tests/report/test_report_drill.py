"""The drill timeline's input: the JSON format, its errors, and the modeled fallback."""

from __future__ import annotations

import json

import pytest

from infra.report import drill
from infra.report.timeline import to_svg


def test_modeled_steps_from_the_modeled_rto(plans):
    timeline = drill.modeled(plans["us-east"].outputs["modeledRto"], "us-east")
    assert [s.modeled_seconds for s in timeline.steps] == [90, 135, 30]
    assert timeline.modeled_total == plans["us-east"].outputs["modeledRto"]["totalSeconds"] == 255
    assert timeline.budget_seconds == 300 and not timeline.measured and timeline.measured_total is None


def test_a_drill_file_is_read_in_order(tmp_path):
    path = tmp_path / "drill.json"
    path.write_text(json.dumps({"title": "game day", "steps": [
        {"name": "detection", "modeledSeconds": 90, "measuredSeconds": 84.5},
        {"name": "promotion", "modeledSeconds": 60, "measuredSeconds": 250},
        {"name": "reconnect", "modeledSeconds": 30, "measuredSeconds": None}]}))
    timeline = drill.load(path)
    assert timeline.steps[0] == drill.DrillStep("detection", 90.0, 84.5)
    assert timeline.title == "game day" and timeline.measured and timeline.measured_total is None
    svg = to_svg(timeline)
    assert svg.startswith("<svg") and "RTO budget 300 s" in svg and "measured" in svg


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"steps": []}', 'expected an object with a non-empty "steps" list'),
    ('{"steps": [{"name": "x", "modeledSeconds": -1}]}', "steps[0].modeledSeconds must be a number of seconds"),
    ('{"steps": [{"name": "", "modeledSeconds": 1}]}', "steps[0].name must be a non-empty string"),
    ('{"steps": [{"name": "x", "modeledSeconds": 1, "seconds": 2}]}', "steps[0] has unknown field(s) seconds"),
    ('{"steps": [{"name": "x", "modeledSeconds": 1}], "rtoBudgetSeconds": 0}', "rtoBudgetSeconds must be more than 0"),
])
def test_bad_drill_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "drill.json"
    path.write_text(content)
    with pytest.raises(drill.DrillFileError) as exc:
        drill.load(path)
    assert str(exc.value).startswith(f"--drill {path}: ") and message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_missing_drill_file(tmp_path):
    with pytest.raises(drill.DrillFileError, match="cannot read it"):
        drill.load(tmp_path / "absent.json")
