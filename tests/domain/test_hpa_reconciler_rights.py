"""What the in-cluster HPA reconciler may do and read: one item kind of the state table,
get and patch of the app's HPAs by name; and the recorded minimum it accepts."""

from __future__ import annotations

import json

import pytest

from infra.domain.hpa import recorded_minimum, reconciler_policy, reconciler_rules


def test_it_may_read_the_state_table_of_its_region_and_nothing_else():
    assert json.loads(reconciler_policy("111122223333", "eu-west-1", "hse-production-failover-state")) == {
        "Version": "2012-10-17", "Statement": [{
            "Sid": "ReadTheRecordedCapacity", "Effect": "Allow", "Action": "dynamodb:GetItem",
            "Resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/hse-production-failover-state"}]}


def test_it_may_get_and_patch_the_apps_hpas_by_name_only():
    assert reconciler_rules(["green", "blue"]) == [{
        "apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
        "resourceNames": ["hse-app-blue", "hse-app-green"], "verbs": ["get", "patch"]}]


@pytest.mark.parametrize("value", [0, -1, "5", 5.5, True, None])
def test_a_recorded_value_no_hpa_can_take_is_refused(value):
    with pytest.raises(ValueError, match="is not a whole number of replicas of at least 1"):
        recorded_minimum({"hpa_min_replicas": value})


def test_nothing_recorded_and_the_smallest_valid_minimum():
    assert recorded_minimum(None) is None
    assert recorded_minimum({"hpa_min_replicas": 1}) == 1
    assert recorded_minimum({"hpa_min_replicas": 5}) == 5
