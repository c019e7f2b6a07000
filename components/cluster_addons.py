"""The add-ons the region's cluster needs for the autoscaling the platform relies on:
metrics-server (the HPAs' CPU and memory metrics) and the cluster autoscaler (more nodes
when pods do not fit, e.g. after a failover raises the HPA minimum), each a pinned Helm
release (infra/domain/cluster_addons.py); the autoscaler takes its IAM role through IRSA."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.domain.cluster_addons import (AUTOSCALER_DEPLOYMENT, AUTOSCALER_NAMESPACE, AUTOSCALER_SERVICE_ACCOUNT,
                                         CLUSTER_AUTOSCALER_CHART, METRICS_SERVER_CHART, METRICS_SERVER_DEPLOYMENT,
                                         autoscaler_image)


@dataclass(frozen=True)
class ClusterAddonsArgs:
    """Inputs of `ClusterAddons`."""

    cluster_name: pulumi.Input[str]
    aws_region: str
    kubernetes_version: str
    autoscaler_role_arn: pulumi.Input[str]
    """The IAM role of the autoscaler's service account (kube-system/cluster-autoscaler)."""


class ClusterAddons(pulumi.ComponentResource):
    """metrics-server and cluster-autoscaler on the region's cluster."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:workloads:ClusterAddons", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        chart, version, repo = METRICS_SERVER_CHART
        self.metrics_server = k8s.helm.v3.Release(
            f"{name}-metrics-server", chart=chart, version=version, repository_opts={"repo": repo},
            namespace="kube-system", atomic=True, cleanup_on_fail=True,
            values={"fullnameOverride": METRICS_SERVER_DEPLOYMENT, "replicas": 2,
                    "podDisruptionBudget": {"enabled": True, "minAvailable": 1}}, opts=child)
        chart, version, repo = CLUSTER_AUTOSCALER_CHART
        self.autoscaler = k8s.helm.v3.Release(
            f"{name}-cluster-autoscaler", chart=chart, version=version, repository_opts={"repo": repo},
            namespace=AUTOSCALER_NAMESPACE, atomic=True, cleanup_on_fail=True,
            values={
                "fullnameOverride": AUTOSCALER_DEPLOYMENT, "cloudProvider": "aws", "awsRegion": args.aws_region,
                "autoDiscovery": {"clusterName": args.cluster_name},
                "image": {"tag": autoscaler_image(args.kubernetes_version)},
                "rbac": {"serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT, "annotations": {
                    "eks.amazonaws.com/role-arn": args.autoscaler_role_arn}}},
                # Spread over the AZs' groups alike; pick the node type that wastes least.
                "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste",
                              "skip-nodes-with-system-pods": False},
            },
            opts=child)
        self.deployments = {"metricsServer": f"kube-system/{METRICS_SERVER_DEPLOYMENT}",
                            "clusterAutoscaler": f"{AUTOSCALER_NAMESPACE}/{AUTOSCALER_DEPLOYMENT}"}
        """Add-on -> `<namespace>/<Deployment>` (fixed by the charts' fullnameOverride)."""
        self.register_outputs({"deployments": self.deployments, "metricsServerChart": f"{METRICS_SERVER_CHART[0]}@{METRICS_SERVER_CHART[1]}",
                               "autoscalerChart": f"{chart}@{version}",
                               "autoscalerImage": autoscaler_image(args.kubernetes_version)})
