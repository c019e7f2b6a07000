"""The HPA reconciler on a fake autoscaling/v2 client, and the failover path that calls it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infra.ops.failback import Failback, FailbackSettings
from infra.ops.failover import Controller, Settings
from infra.ops.hpa import HpaError, HpaReconciler
from infra.ops.signals import Signal


class FakeAutoscaling:
    """The two calls of kubernetes.client.AutoscalingV2Api, on HPAs kept in a dict."""

    def __init__(self, **hpas: tuple[int, int]):
        self.hpas = {name.replace("_", "-"): list(bounds) for name, bounds in hpas.items()}
        self.patches: list[tuple[str, str, dict]] = []

    def list_namespaced_horizontal_pod_autoscaler(self, namespace):
        assert namespace == "hse"
        return SimpleNamespace(items=[SimpleNamespace(metadata=SimpleNamespace(name=n),
                                                      spec=SimpleNamespace(min_replicas=lo, max_replicas=hi))
                                      for n, (lo, hi) in self.hpas.items()])

    def patch_namespaced_horizontal_pod_autoscaler(self, name, namespace, body):
        self.patches.append((name, namespace, body))
        spec = body["spec"]
        self.hpas[name] = [spec["minReplicas"], spec.get("maxReplicas", self.hpas[name][1])]


def test_apply_patches_through_the_api_and_says_what_changed():
    api = FakeAutoscaling(hse_app_blue=(3, 9), hse_app_green=(3, 4))
    assert HpaReconciler(api).apply(5) == ("HPA hse-app-blue minimum 5; hse-app-green minimum 5 (maximum raised "
                                           "to 5)")
    assert api.patches == [("hse-app-blue", "hse", {"spec": {"minReplicas": 5}}),
                           ("hse-app-green", "hse", {"spec": {"minReplicas": 5, "maxReplicas": 5}})]
    assert HpaReconciler(api).apply(5) == "HPA minimum 5 already set (hse-app-blue, hse-app-green)"
    assert len(api.patches) == 2


def test_the_failover_path_raises_the_promoted_regions_minimum(world):
    run = world()
    clusters = {}

    def api(region):
        return clusters.setdefault(region.stack, FakeAutoscaling(hse_app_blue=(3, 9)))

    run.set_health("us-east", False)
    outcome = Controller(run.clients, run.store, run.clock, Settings(), run.platform, hpa_api=api).handle(
        Signal("us-east", "region", "ALARM", "test"))
    scale = next(s for s in outcome.steps if s.name == "scale")
    assert (outcome.target, sorted(clusters)) == ("eu-west", ["eu-west"])
    assert clusters["eu-west"].hpas == {"hse-app-blue": [5, 9]}
    assert scale.detail == f"{run.region('eu-west').eks_node_group_name}: 3 -> 5 nodes; HPA hse-app-blue minimum 5"
    assert run.store.capacity("eu-west")["hpa_min_replicas"] == 5


def test_without_a_client_the_minimum_is_only_recorded(world):
    run = world()
    run.set_health("us-east", False)
    outcome = Controller(run.clients, run.store, run.clock, Settings(), run.platform).handle(
        Signal("us-east", "region", "ALARM", "test"))
    scale = next(s for s in outcome.steps if s.name == "scale")
    assert scale.detail.endswith("; HPA minimum 5 recorded for the cluster side")


def test_an_unreachable_cluster_never_fails_the_failover(world):
    run = world()

    def unreachable(region):
        raise HpaError("applying the HPA minimum needs the kubernetes package: pip install kubernetes")

    run.set_health("us-east", False)
    outcome = Controller(run.clients, run.store, run.clock, Settings(), run.platform, hpa_api=unreachable).handle(
        Signal("us-east", "region", "ALARM", "test"))
    scale = next(s for s in outcome.steps if s.name == "scale")
    assert outcome.action == "failed-over"
    assert scale.detail.endswith("; HPA minimum 5 recorded, not applied (HpaError: applying the HPA minimum needs "
                                 "the kubernetes package: pip install kubernetes); python -m infra.cli hpa-reconcile "
                                 "--stack eu-west applies it")


def test_the_reconciler_applies_the_recorded_minimum_and_the_failback_lowers_it(world):
    run = world()
    run.lose("us-east")
    api = FakeAutoscaling(hse_app_blue=(3, 9))
    assert HpaReconciler(api).from_state(run.store, "eu-west") == "HPA hse-app-blue minimum 5"
    with pytest.raises(HpaError, match="no capacity recorded for ap-se"):
        HpaReconciler(api).from_state(run.store, "ap-se")
    # Failback: the interim region goes back to its own 3.
    run.recover("us-east")
    run.clock.advance(300)
    run.lag("us-east", 100)
    back = Failback(run.clients, run.store, run.clock, FailbackSettings(), run.platform,
                    hpa_api=lambda region: api).run()
    assert back.action == "failed-back"
    assert api.hpas == {"hse-app-blue": [3, 9]}
