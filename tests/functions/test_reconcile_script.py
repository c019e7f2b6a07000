"""The capacity reconciler's script: the state table on moto, the Kubernetes API faked at
its client (and the client's HTTP requests checked as the API server would receive them),
and its package importing on its own."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.capacity_reconciler.reconcile import KubeApi, KubeError, reconcile
from infra.domain.failover_package import lambda_files
from infra.domain.hpa import RECONCILER_ENTRY as ENTRY
from infra.domain.failover_state import table_definition
from infra.ops.clients import Clients
from infra.ops.clock import ModelClock
from infra.ops.state import StateStore

ROOT = Path(__file__).resolve().parents[2]
ENV = {"HSE_STACK": "eu-west", "HSE_STATE_TABLE": "state", "HSE_NAMESPACE": "hse",
       "HSE_HPAS": "hse-app-blue,hse-app-green", "AWS_REGION": "eu-west-1"}


class FakeApi:
    """The two HPAs as the API server holds them; merge patches applied."""

    def __init__(self, minimum: int = 3, maximum: int = 9, fail_patch: bool = False):
        self.hpas = {n: {"spec": {"minReplicas": minimum, "maxReplicas": maximum}} for n in ("hse-app-blue", "hse-app-green")}
        self.calls: list[tuple] = []
        self.fail_patch = fail_patch

    def get_hpa(self, namespace, name):
        self.calls.append(("get", namespace, name))
        return json.loads(json.dumps(self.hpas[name]))

    def patch_hpa(self, namespace, name, patch):
        self.calls.append(("patch", namespace, name, patch))
        if self.fail_patch:
            raise KubeError(f"PATCH {name}: HTTP Error 403: Forbidden")
        self.hpas[name]["spec"].update(patch["spec"])
        return self.hpas[name]


@pytest.fixture
def table():
    with mock_aws():
        clients = Clients()
        clients("dynamodb", "eu-west-1").create_table(**table_definition("state"))
        yield StateStore(clients, "eu-west-1", "state", ModelClock()), boto3.client("dynamodb", "eu-west-1")


def test_a_recorded_minimum_is_applied_to_every_hpa_that_differs(table):
    store, dynamodb = table
    store.set_capacity("eu-west", hpa_min_replicas=5, node_count=5, reason="promoted after us-east failed")
    api, log = FakeApi(), []
    assert reconcile(ENV, dynamodb, api, log.append) == 0
    assert api.calls == [("get", "hse", "hse-app-blue"), ("get", "hse", "hse-app-green"),
                         ("patch", "hse", "hse-app-blue", {"spec": {"minReplicas": 5}}),
                         ("patch", "hse", "hse-app-green", {"spec": {"minReplicas": 5}})]
    assert log == ["eu-west: hse/hse-app-blue minReplicas 3 -> 5", "eu-west: hse/hse-app-green minReplicas 3 -> 5"]
    # The next minute's run finds nothing to change.
    api.calls.clear()
    assert reconcile(ENV, dynamodb, api, log.append) == 0
    assert [c[0] for c in api.calls] == ["get", "get"] and log[-1] == "eu-west: every HPA already has minReplicas 5"


def test_nothing_recorded_leaves_the_hpas_as_declared(table):
    _, dynamodb = table
    api, log = FakeApi(), []
    assert reconcile(ENV, dynamodb, api, log.append) == 0
    assert api.calls == [] and log == ["eu-west: no capacity recorded; the HPAs stay as declared"]


def test_another_regions_item_is_not_this_regions(table):
    store, dynamodb = table
    store.set_capacity("ap-se", hpa_min_replicas=5, node_count=5, reason="other")
    api = FakeApi()
    assert reconcile(ENV, dynamodb, api, lambda _: None) == 0 and api.calls == []


def test_a_bad_recorded_value_patches_nothing_and_fails_the_run(table):
    store, dynamodb = table
    store.set_capacity("eu-west", hpa_min_replicas=0, node_count=0, reason="broken")
    api, log = FakeApi(), []
    assert reconcile(ENV, dynamodb, api, log.append) == 1
    assert api.calls == [] and log == ["eu-west: hpa_min_replicas 0 is not a whole number of replicas of at least 1; "
                                       "nothing patched"]


def test_a_refused_patch_fails_the_run_loudly(table):
    store, dynamodb = table
    store.set_capacity("eu-west", hpa_min_replicas=5, node_count=5, reason="promoted")
    with pytest.raises(KubeError, match="403"):
        reconcile(ENV, dynamodb, FakeApi(fail_patch=True), lambda _: None)


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_client_sends_a_merge_patch_with_the_token_to_the_hpa_path():
    seen = []

    def opener(request, context=None, timeout=None):
        seen.append((request.get_method(), request.full_url, dict(request.header_items()), request.data, timeout))
        return _Response(b'{"spec": {"minReplicas": 5}}')

    api = KubeApi("https://10.100.0.1:443", "token-123", opener=opener)
    assert api.patch_hpa("hse", "hse-app-blue", {"spec": {"minReplicas": 5}}) == {"spec": {"minReplicas": 5}}
    api.get_hpa("hse", "hse-app-blue")
    path = "https://10.100.0.1:443/apis/autoscaling/v2/namespaces/hse/horizontalpodautoscalers/hse-app-blue"
    assert seen[0] == ("PATCH", path, {"Authorization": "Bearer token-123", "Accept": "application/json",
                                       "Content-type": "application/merge-patch+json"},
                       b'{"spec": {"minReplicas": 5}}', 10)
    assert seen[1][:2] == ("GET", path) and seen[1][3] is None


def test_the_client_turns_http_errors_into_one_line():
    import urllib.error

    def opener(request, context=None, timeout=None):
        raise urllib.error.HTTPError(request.full_url, 403, "Forbidden", {}, None)

    with pytest.raises(KubeError, match=r"^PATCH /apis/autoscaling/v2/namespaces/hse/horizontalpodautoscalers/x: "
                                        r"HTTP Error 403: Forbidden$"):
        KubeApi("https://k", "t", opener=opener).patch_hpa("hse", "x", {"spec": {}})


def test_the_in_cluster_client_reads_the_service_accounts_token(tmp_path):
    (tmp_path / "token").write_text("abc\n")
    shutil.copy(ssl_ca(), tmp_path / "ca.crt")
    api = KubeApi.in_cluster({"KUBERNETES_SERVICE_HOST": "10.100.0.1", "KUBERNETES_SERVICE_PORT": "443"}, str(tmp_path))
    assert (api.host, api.token) == ("https://10.100.0.1:443", "abc")


def ssl_ca() -> str:
    import certifi

    return certifi.where()


def test_the_package_is_the_script_and_the_domain_modules_it_imports_and_runs_on_its_own(tmp_path):
    files = lambda_files(ROOT, ENTRY)
    assert sorted(files) == ["functions/__init__.py", "functions/capacity_reconciler/__init__.py",
                             "functions/capacity_reconciler/reconcile.py", "infra/__init__.py",
                             "infra/domain/__init__.py", "infra/domain/failover_state.py", "infra/domain/hpa.py"]
    for relative, path in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tmp_path / relative)
    # Without the cluster's token the run fails with status 1 and one line, as the Job would report it.
    result = subprocess.run([sys.executable, "-E", "-s", "-m", "functions.capacity_reconciler.reconcile"], cwd=tmp_path,
                            capture_output=True, text=True, env={**ENV, "KUBERNETES_SERVICE_HOST": "10.0.0.1",
                                                                 "KUBERNETES_SERVICE_PORT": "443", "PATH": "/usr/bin"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: FileNotFoundError: ") and "serviceaccount/token" in result.stderr
