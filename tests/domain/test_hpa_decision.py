"""The HPA decision after a failover or failback: exact patches, both sides of each bound."""

from __future__ import annotations

import pytest

from infra.domain.hpa import Hpa, HpaPatch, hpa_name, reconcile


def test_every_colours_hpa_gets_the_primarys_minimum() -> None:
    hpas = [Hpa("hse-app-green", 3, 9), Hpa("hse-app-blue", 3, 9)]
    assert reconcile(hpas, 5) == [HpaPatch("hse-app-blue", {"spec": {"minReplicas": 5}}),
                                  HpaPatch("hse-app-green", {"spec": {"minReplicas": 5}})]


def test_a_maximum_below_the_new_minimum_is_raised_with_it() -> None:
    assert reconcile([Hpa("hse-app-blue", 3, 4)], 5) == [
        HpaPatch("hse-app-blue", {"spec": {"minReplicas": 5, "maxReplicas": 5}})]
    assert reconcile([Hpa("hse-app-blue", 3, 5)], 5) == [HpaPatch("hse-app-blue", {"spec": {"minReplicas": 5}})]


def test_back_down_after_a_failback_and_nothing_when_already_there() -> None:
    assert reconcile([Hpa("hse-app-blue", 5, 9)], 3) == [HpaPatch("hse-app-blue", {"spec": {"minReplicas": 3}})]
    assert reconcile([Hpa("hse-app-blue", 3, 9)], 3) == []


def test_other_autoscalers_are_left_alone() -> None:
    assert reconcile([Hpa("external-secrets", 1, 3), Hpa("hse-app-blue", 3, 9)], 5) == [
        HpaPatch("hse-app-blue", {"spec": {"minReplicas": 5}})]
    assert hpa_name("green") == "hse-app-green"


@pytest.mark.parametrize("wanted", [0, -1])
def test_a_minimum_below_one_is_refused(wanted) -> None:
    with pytest.raises(ValueError, match="scale to nothing"):
        reconcile([Hpa("hse-app-blue", 3, 9)], wanted)
    assert reconcile([Hpa("hse-app-blue", 3, 9)], 1) == [HpaPatch("hse-app-blue", {"spec": {"minReplicas": 1}})]
