"""The HPA reconciler as every stack declares it: its identity (IRSA trust and the one
grant), its Kubernetes rights (exactly the app's HPAs), its code and its CronJob."""

from __future__ import annotations

import json

import pytest

from infra.domain.failover_package import sources
from infra.domain.hpa import RECONCILER_ENTRY as ENTRY
from tests.conftest import PROJECT_DIR, STACKS

REGIONS = {"us-east": "us-east-1", "eu-west": "eu-west-1", "ap-se": "ap-southeast-1"}
K8S = "kubernetes:"


def _one(plan, type_: str, name: str):
    return plan.one(type_, name)


@pytest.mark.parametrize("stack", STACKS)
def test_the_reconciler_reads_one_table_through_its_own_service_account(plans, stack) -> None:
    plan = plans[stack]
    role = _one(plan, "aws:iam/role:Role", f"hse-{stack}-capacity-reconciler")
    (statement,) = json.loads(role.input("assumeRolePolicy"))["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert sorted(statement["Condition"]["StringEquals"].values()) == [
        "sts.amazonaws.com", "system:serviceaccount:hse:hse-capacity-reconciler"]
    assert statement["Principal"]["Federated"] == plan.single("aws:iam/openIdConnectProvider:OpenIdConnectProvider").output("arn")
    policy = json.loads(_one(plan, "aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-capacity-reconciler-policy").input("policy"))
    assert policy == {"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadTheRecordedCapacity", "Effect": "Allow", "Action": "dynamodb:GetItem",
        "Resource": f"arn:aws:dynamodb:{REGIONS[stack]}:111122223333:table/hse-production-failover-state"}]}
    account = _one(plan, f"{K8S}core/v1:ServiceAccount", f"hse-{stack}-capacity-sa")
    assert account.input("metadata")["annotations"] == {"eks.amazonaws.com/role-arn": role.output("arn")}
    assert (account.input("metadata")["name"], account.input("metadata")["namespace"]) == ("hse-capacity-reconciler", "hse")


@pytest.mark.parametrize("stack", STACKS)
def test_it_may_get_and_patch_the_apps_hpas_and_nothing_else(plans, stack) -> None:
    plan = plans[stack]
    role = _one(plan, f"{K8S}rbac.authorization.k8s.io/v1:Role", f"hse-{stack}-capacity-role")
    hpas = [h.input("metadata")["name"] for h in plan.find(f"{K8S}autoscaling/v2:HorizontalPodAutoscaler")]
    assert hpas == ["hse-app-blue"]
    assert role.input("metadata")["namespace"] == "hse"
    assert role.input("rules") == [{"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
                                    "resourceNames": ["hse-app-blue"], "verbs": ["get", "patch"]}]
    binding = _one(plan, f"{K8S}rbac.authorization.k8s.io/v1:RoleBinding", f"hse-{stack}-capacity-binding")
    assert binding.input("roleRef") == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                        "name": "hse-capacity-reconciler"}
    assert binding.input("subjects") == [{"kind": "ServiceAccount", "name": "hse-capacity-reconciler",
                                          "namespace": "hse"}]
    assert not plan.find(f"{K8S}rbac.authorization.k8s.io/v1:ClusterRole")


@pytest.mark.parametrize("stack", STACKS)
def test_the_cron_job_runs_the_packaged_script_every_minute_one_at_a_time(plans, stack) -> None:
    plan = plans[stack]
    cron = _one(plan, f"{K8S}batch/v1:CronJob", f"hse-{stack}-capacity-cron")
    spec = cron.input("spec")
    assert (spec["schedule"], spec["concurrencyPolicy"]) == ("* * * * *", "Forbid")
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["restartPolicy"]) == ("hse-capacity-reconciler", "Never")
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == "public.ecr.aws/lambda/python:3.12"
    assert container["command"] == ["python3", "-m", "functions.capacity_reconciler.reconcile"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert {k: env[k] for k in ("HSE_STACK", "HSE_STATE_TABLE", "HSE_NAMESPACE", "HSE_HPAS", "AWS_REGION")} == {
        "HSE_STACK": stack, "HSE_STATE_TABLE": "hse-production-failover-state", "HSE_NAMESPACE": "hse",
        "HSE_HPAS": "hse-app-blue", "AWS_REGION": REGIONS[stack]}
    # The code mounted is the script and what it imports, byte for byte.
    code = _one(plan, f"{K8S}core/v1:ConfigMap", f"hse-{stack}-capacity-code")
    files = sources(PROJECT_DIR, ENTRY)
    assert code.input("data") == {p.replace("/", "__"): text for p, text in files.items()}
    assert pod["volumes"][0]["configMap"]["items"] == [{"key": p.replace("/", "__"), "path": p} for p in sorted(files)]
    assert container["workingDir"] == container["volumeMounts"][0]["mountPath"] == "/opt/reconciler"
    # It starts once the app's namespace and HPAs exist.
    component = plan.one("hse:workloads:CapacityReconciler", f"hse-{stack}-capacity")
    hpa = plan.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", f"hse-{stack}-app-blue-hpa")
    namespace = plan.one("kubernetes:core/v1:Namespace", f"hse-{stack}-app-ns")
    assert {hpa.urn, namespace.urn} <= set(component.dependencies)


def test_both_colours_both_hpas(staging) -> None:
    role = staging["us-east"].one("kubernetes:rbac.authorization.k8s.io/v1:Role", "hse-us-east-capacity-role")
    assert role.input("rules")[0]["resourceNames"] == ["hse-app-blue", "hse-app-green"]
