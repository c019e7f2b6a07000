"""The application on the region's cluster: namespace, one Deployment per colour with its
autoscaler and disruption budget, the secrets synced from Secrets Manager, and the
regional load balancer.

- Replicas start at the region's `appInstanceCount` (5 / 3 / 3), which is also the
  autoscaler's minimum; the autoscaler owns the count afterwards (`spec.replicas` is
  ignored on update, so a `pulumi up` never scales a region down).
- Secrets: the External Secrets Operator convention. The operator (a pinned Helm chart)
  reads the region's credentials from Secrets Manager through an IAM role for its
  service account and keeps a Kubernetes Secret in sync every hour. Why not a Secret
  written by the program: the master password rotates every 30 days in Secrets Manager,
  and a copy in the Pulumi state would go stale and need a deploy after each rotation.
- Everything else the app needs comes from the other components' outputs, never
  retyped: endpoints, ports, pool size, the routing table's version.
- The regional load balancers: per colour a Service of type LoadBalancer, an
  internet-facing NLB (the in-tree AWS controller) terminating TLS on 443 with the
  region's ACM certificate, cross-zone, forwarding to the app's port. The workloads tier
  names them `<stack>-<colour>.<domain>` and weighs them under `live-<stack>.<domain>`
  (the active colour 100, the other 0): a blue-green switch moves the weights
  (`python -m infra.cli deploy --blue-green`), and `hse:appActiveColour` records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.geo_dns import HEALTH_PATH

NAMESPACE = "hse"
APP = "hse-app"
SECRETS_NAME = "hse-app-secrets"
SECRETS_SERVICE_ACCOUNT = "hse-secrets"
APP_SERVICE_ACCOUNT = "hse-app"
"""The app's own identity: an IAM role through IRSA (proxy sign-in, failover state, metrics)."""
EXTERNAL_SECRETS_CHART = ("external-secrets", "0.18.2", "https://charts.external-secrets.io")
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 only, to viewers of the regional load balancer."""


@dataclass(frozen=True)
class AppWorkloadArgs:
    """Inputs of `AppWorkload`."""

    stack: str
    image: str
    port: int
    instances: int
    max_instances: int
    cpu_target_percent: int
    memory_target_percent: int
    cpu_millicores: int
    memory_mib: int
    colours: Sequence[str]
    active_colour: str
    certificate_arn: pulumi.Input[str]
    """The region's ACM certificate (`*.<domain>`) the load balancer presents."""
    secrets_role_arn: pulumi.Input[str]
    """The IAM role the operator's service account takes to read the secrets."""
    app_role_arn: pulumi.Input[str]
    """The IAM role the app's pods take (IRSA): proxy sign-in, failover state, metrics."""
    aws_region: str
    environment: Mapping[str, pulumi.Input[str]]
    """Plain settings for the app, from the other tiers' outputs."""
    secret_refs: Mapping[str, tuple[pulumi.Input[str], str]]
    """Variable -> (Secrets Manager ARN, JSON property) synced into the app's Secret."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)


class AppWorkload(pulumi.ComponentResource):
    """The app's Kubernetes objects in one region."""

    deployments: dict[str, k8s.apps.v1.Deployment]
    autoscalers: dict[str, k8s.autoscaling.v2.HorizontalPodAutoscaler]
    services: dict[str, k8s.core.v1.Service]
    service_account: k8s.core.v1.ServiceAccount
    """The app's own service account (its IRSA role in the annotation)."""
    hostnames: dict[str, pulumi.Output[str]]
    """Colour -> its load balancer's DNS name (`<stack>-<colour>.<domain>` points at it)."""

    def __init__(self, name: str, args: AppWorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:workloads:AppWorkload", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": NAMESPACE, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted"}}, opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        chart, version, repo = EXTERNAL_SECRETS_CHART
        operator = k8s.helm.v3.Release(
            f"{name}-external-secrets", chart=chart, version=version, repository_opts={"repo": repo},
            namespace="external-secrets", create_namespace=True, atomic=True, cleanup_on_fail=True,
            values={"installCRDs": True}, opts=child)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-secrets-sa", metadata={"name": SECRETS_SERVICE_ACCOUNT, "namespace": NAMESPACE,
                                            "annotations": {"eks.amazonaws.com/role-arn": args.secrets_role_arn}},
            opts=in_ns)
        app_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata={"name": APP_SERVICE_ACCOUNT, "namespace": NAMESPACE,
                                    "annotations": {"eks.amazonaws.com/role-arn": args.app_role_arn}},
            opts=in_ns)
        store = k8s.apiextensions.CustomResource(
            f"{name}-secret-store", api_version="external-secrets.io/v1", kind="SecretStore",
            metadata={"name": "aws-secrets-manager", "namespace": NAMESPACE},
            spec={"provider": {"aws": {"service": "SecretsManager", "region": args.aws_region,
                                       "auth": {"jwt": {"serviceAccountRef": {"name": SECRETS_SERVICE_ACCOUNT}}}}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[operator, account]))
        synced = k8s.apiextensions.CustomResource(
            f"{name}-secrets", api_version="external-secrets.io/v1", kind="ExternalSecret",
            metadata={"name": SECRETS_NAME, "namespace": NAMESPACE},
            spec={"refreshInterval": "1h", "secretStoreRef": {"name": "aws-secrets-manager", "kind": "SecretStore"},
                  "target": {"name": SECRETS_NAME, "creationPolicy": "Owner"},
                  "data": [{"secretKey": variable, "remoteRef": {"key": arn, "property": prop}}
                           for variable, (arn, prop) in sorted(args.secret_refs.items())]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[store]))

        self.service_account = app_account
        env = [{"name": key, "value": value} for key, value in sorted(args.environment.items())]
        self.deployments, self.autoscalers = {}, {}
        for colour in args.colours:
            labels = {"app": APP, "colour": colour, **args.extra_labels}
            deployment = k8s.apps.v1.Deployment(
                f"{name}-{colour}",
                metadata={"name": f"{APP}-{colour}", "namespace": NAMESPACE, "labels": labels},
                spec={
                    "replicas": args.instances,
                    "selector": {"matchLabels": {"app": APP, "colour": colour}},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": _pod_spec(args, env, colour),
                    },
                },
                # The autoscaler owns the replica count once the Deployment exists.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, synced, app_account],
                                            ignore_changes=["spec.replicas"]),
            )
            self.deployments[colour] = deployment
            self.autoscalers[colour] = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-{colour}-hpa",
                metadata={"name": f"{APP}-{colour}", "namespace": NAMESPACE},
                spec={"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{APP}-{colour}"},
                      "minReplicas": args.instances, "maxReplicas": args.max_instances,
                      "metrics": [_utilisation("cpu", args.cpu_target_percent),
                                  _utilisation("memory", args.memory_target_percent)],
                      # Scale down slowly: a failover's traffic arrives in waves.
                      "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]))
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-{colour}-pdb",
                metadata={"name": f"{APP}-{colour}", "namespace": NAMESPACE},
                spec={"maxUnavailable": 1, "selector": {"matchLabels": {"app": APP, "colour": colour}}},
                opts=in_ns)

        self.services, self.hostnames = {}, {}
        for colour in args.colours:
            self.services[colour] = self._load_balancer(name, args, colour, in_ns)
            self.hostnames[colour] = self.services[colour].status.apply(
                lambda status: status.load_balancer.ingress[0].hostname)
        self.register_outputs({"hostnames": self.hostnames})

    def _load_balancer(self, name: str, args: AppWorkloadArgs, colour: str,
                       opts: pulumi.ResourceOptions) -> k8s.core.v1.Service:
        """One internet-facing NLB per colour: the weighted DNS of a blue-green switch moves
        traffic between them."""
        return k8s.core.v1.Service(
            f"{name}-{colour}-lb",
            metadata={"name": f"{APP}-{colour}", "namespace": NAMESPACE, "annotations": {
                "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": args.certificate_arn,
                "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "443",
                "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": TLS_POLICY,
                "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp",
                "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
            }},
            spec={"type": "LoadBalancer", "selector": {"app": APP, "colour": colour},
                  "ports": [{"name": "https", "port": 443, "targetPort": args.port, "protocol": "TCP"}],
                  # Keep the client's address (the app logs it and rate-limits by it).
                  "externalTrafficPolicy": "Local"},
            opts=opts)


def _utilisation(resource: str, percent: int) -> dict:
    return {"type": "Resource", "resource": {"name": resource, "target": {"type": "Utilization",
                                                                          "averageUtilization": percent}}}


def _pod_spec(args: AppWorkloadArgs, env: list, colour: str) -> dict:
    probe = {"httpGet": {"path": HEALTH_PATH, "port": args.port}, "periodSeconds": 10, "timeoutSeconds": 5}
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": {"app": APP, "colour": colour}}},
            {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": {"app": APP, "colour": colour}}},
        ],
        "serviceAccountName": APP_SERVICE_ACCOUNT,
        "terminationGracePeriodSeconds": 30,
        "containers": [{
            "name": "app",
            "image": args.image,
            "ports": [{"name": "http", "containerPort": args.port}],
            "env": [*env, {"name": "HSE_COLOUR", "value": colour}],
            "envFrom": [{"secretRef": {"name": SECRETS_NAME}}],
            "resources": {"requests": {"cpu": f"{args.cpu_millicores}m", "memory": f"{args.memory_mib}Mi"},
                          "limits": {"cpu": f"{2 * args.cpu_millicores}m", "memory": f"{args.memory_mib}Mi"}},
            "readinessProbe": {**probe, "failureThreshold": 3},
            "livenessProbe": {**probe, "failureThreshold": 6, "initialDelaySeconds": 30},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
