"""The cluster add-ons every region's EKS cluster runs, pinned: the metrics the HPAs read
and the autoscaler that grows the node group when pods do not fit.

- metrics-server (kubernetes-sigs/metrics-server, chart repository
  https://kubernetes-sigs.github.io/metrics-server/): the resource metrics API the HPAs
  use for CPU and memory utilisation; without it an HPA never scales.
- cluster-autoscaler (kubernetes/autoscaler, https://kubernetes.github.io/autoscaler): it
  discovers managed node groups by the tags EKS puts on their Auto Scaling groups
  (`k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/<cluster>`: EKS user
  guide, "Managed node groups"). Its image's minor version must match the cluster's
  Kubernetes minor version (the project's README: "Releases"), hence the table.
"""

from __future__ import annotations

METRICS_SERVER_CHART = ("metrics-server", "3.12.2", "https://kubernetes-sigs.github.io/metrics-server/")
CLUSTER_AUTOSCALER_CHART = ("cluster-autoscaler", "9.52.1", "https://kubernetes.github.io/autoscaler")
AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
# The Deployments' names (each chart's `fullnameOverride`), so runbooks can name them.
AUTOSCALER_DEPLOYMENT = "cluster-autoscaler"
METRICS_SERVER_DEPLOYMENT = "metrics-server"

# Kubernetes minor version -> the cluster-autoscaler release built for it.
AUTOSCALER_IMAGES: dict[str, str] = {
    "1.31": "v1.31.4",
    "1.32": "v1.32.3",
    "1.33": "v1.33.1",
    "1.34": "v1.34.0",
    "1.35": "v1.35.0",
}


def autoscaler_image(kubernetes_version: str) -> str:
    """The autoscaler's image tag for a cluster version (KeyError for a version not listed)."""
    return AUTOSCALER_IMAGES[kubernetes_version]


def autoscaler_tags(cluster_name: str) -> dict[str, str]:
    """The autoscaler's auto-discovery tags. EKS puts them on a managed node group's Auto
    Scaling group itself (EKS user guide, "Simplify node lifecycle with managed node
    groups": its nodes "are automatically tagged for auto-discovery"); the node group
    declares the same pair so the plan shows what the autoscaler and its policy rely on."""
    return {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}


def autoscaler_policy(cluster_name: str) -> dict:
    """The autoscaler's IAM policy: reads everywhere (no resource-level permissions), and
    changes only to Auto Scaling groups tagged as this cluster's (the EKS docs' policy)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Discover", "Effect": "Allow", "Resource": "*", "Action": [
            "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
            "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
            "eks:DescribeNodegroup"]},
        {"Sid": "ScaleThisClustersGroups", "Effect": "Allow", "Resource": "*", "Action": [
            "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}},
    ]}
