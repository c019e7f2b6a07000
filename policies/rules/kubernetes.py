"""Kubernetes rules: the EKS cluster and the application's workloads.

checkov's EKS checks, and the spec's application tier: replicas and the HPA minimum equal
to the region's instance count, a disruption budget, probes on `/api/health`.
"""

from __future__ import annotations

from policies import types as t
from policies.rule import MANDATORY, as_list, dig, of_type, resource_policy, setting, stack_policy, stack_value

DOMAIN = "kubernetes"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
APP_NAME = "hse-app"
HEALTH_PATH = "/api/health"
OPEN = ("0.0.0.0/0", "::/0")


def eks_private_endpoint(args, report_violation):
    """CKV_AWS_39 asks for no public endpoint at all; the first `pulumi up` must reach the
    API from the deployer's network, so a public endpoint is accepted when it names its
    networks (none wider than /16) and the private endpoint serves everything inside."""
    vpc = args.props.get("vpcConfig") or {}
    if vpc.get("endpointPrivateAccess") is not True:
        report_violation("EKS cluster endpoint must have private access on.")
        return
    if vpc.get("endpointPublicAccess") is False:
        return
    cidrs = as_list(vpc.get("publicAccessCidrs"))
    wide = [c for c in cidrs if int(str(c).split("/")[-1]) < 16] if cidrs else ["(none named: 0.0.0.0/0)"]
    if wide:
        report_violation(f"EKS public endpoint must admit only named networks of /16 or narrower (found {wide}).")


def eks_public_endpoint_restricted(args, report_violation):
    vpc = args.props.get("vpcConfig") or {}
    if vpc.get("endpointPublicAccess") is False:
        return
    cidrs = as_list(vpc.get("publicAccessCidrs")) or ["0.0.0.0/0"]
    if any(c in OPEN for c in cidrs):
        report_violation("EKS public endpoint must not be open to 0.0.0.0/0.")


def eks_secrets_encryption(args, report_violation):
    configs = as_list(args.props.get("encryptionConfig"))
    if not any("secrets" in as_list(c.get("resources")) and dig(c, "provider", "keyArn") for c in configs):
        report_violation("EKS cluster must encrypt Kubernetes secrets with a KMS key.")


def eks_control_plane_logging(args, report_violation):
    missing = [k for k in LOG_TYPES if k not in as_list(args.props.get("enabledClusterLogTypes"))]
    if missing:
        report_violation(f"EKS cluster must log every control-plane log type (missing {', '.join(missing)}).")


def node_metadata_v2(args, report_violation):
    """The nodes' launch template requires IMDSv2 (CKV_AWS_79) and keeps the response hop
    limit at 1 (CKV_AWS_341), so a pod can never take the node role's credentials: pods use
    IRSA (EKS user guide, "Amazon EKS security best practices")."""
    options = args.props.get("metadataOptions") or {}
    if options.get("httpTokens") != "required":
        report_violation(f"Launch template must require IMDSv2 tokens (httpTokens found {options.get('httpTokens')}).")
    hops = options.get("httpPutResponseHopLimit")
    if hops is None or int(hops) > 1:
        report_violation(f"Launch template must set the metadata response hop limit to 1 (found {hops}).")


def _containers(props) -> list:
    return as_list(dig(props, "spec", "template", "spec", "containers"))


def probes_on_health(args, report_violation):
    for container in _containers(args.props):
        for probe in ("readinessProbe", "livenessProbe"):
            path = dig(container, probe, "httpGet", "path")
            if path != HEALTH_PATH:
                report_violation(f"Container {container.get('name')} must have a {probe} on {HEALTH_PATH} (found {path}).")


def _app(args, type_: str) -> list:
    """The app's objects of a type: those labelled `app: <appName>` (one Deployment per colour)."""
    name = setting(args, "appName", APP_NAME)
    return [r for r in of_type(args, type_) if dig(r.props, "metadata", "labels", "app") == name]


def _instance_count(args):
    count = stack_value(args, "appInstanceCount")
    if count is None:
        args.not_applicable("appInstanceCount is neither a stack output nor in the stack config")
    return int(count)


def app_replicas(args, report_violation):
    """The app's Deployment runs the region's appInstanceCount replicas. Passes vacuously only
    when the stack declares no Deployment of the app at all (before the workloads tier)."""
    deployments = _app(args, t.DEPLOYMENT)
    if not deployments:
        return
    count = _instance_count(args)
    for deployment in deployments:
        replicas = dig(deployment.props, "spec", "replicas")
        if replicas != count:
            report_violation(f"Deployment must run appInstanceCount = {count} replicas (found {replicas}).",
                             deployment.urn)


def hpa_minimum(args, report_violation):
    """The app has an HPA whose minimum is the region's appInstanceCount. Passes vacuously only
    when the stack declares no Deployment of the app at all."""
    if not _app(args, t.DEPLOYMENT):
        return
    count = _instance_count(args)
    for deployment in _app(args, t.DEPLOYMENT):
        name = dig(deployment.props, "metadata", "name")
        scalers = [h for h in of_type(args, t.HPA) if dig(h.props, "spec", "scaleTargetRef", "name") == name]
        if not scalers:
            report_violation(f"Deployment {name} must have a HorizontalPodAutoscaler.")
        for hpa in scalers:
            minimum = dig(hpa.props, "spec", "minReplicas")
            if minimum != count:
                report_violation(f"HorizontalPodAutoscaler minReplicas must be appInstanceCount = {count} "
                                 f"(found {minimum}).", hpa.urn)


def disruption_budget(args, report_violation):
    """The app has a PodDisruptionBudget. Passes vacuously only when the stack declares no
    Deployment of the app at all."""
    for deployment in _app(args, t.DEPLOYMENT):
        labels = dig(deployment.props, "spec", "selector", "matchLabels", default={})
        budgets = [p for p in of_type(args, t.PDB)
                   if dig(p.props, "spec", "selector", "matchLabels", default={}) == labels
                   and (dig(p.props, "spec", "minAvailable") is not None
                        or dig(p.props, "spec", "maxUnavailable") is not None)]
        if not budgets:
            report_violation(f"Deployment {dig(deployment.props, 'metadata', 'name')} must have a "
                             "PodDisruptionBudget selecting its pods.")


POLICIES = [
    resource_policy("eks-private-endpoint", "The EKS API endpoint is private, or public only to the deployer's "
                    "networks (/16 or narrower).",
                    eks_private_endpoint, level=MANDATORY, types=[t.EKS_CLUSTER], domain=DOMAIN, checkov=["CKV_AWS_39"]),
    resource_policy("eks-public-endpoint-restricted", "An EKS public endpoint is never open to the internet.",
                    eks_public_endpoint_restricted, level=MANDATORY, types=[t.EKS_CLUSTER], domain=DOMAIN,
                    checkov=["CKV_AWS_38"]),
    resource_policy("eks-secrets-encryption", "EKS encrypts Kubernetes secrets with a KMS key.",
                    eks_secrets_encryption, level=MANDATORY, types=[t.EKS_CLUSTER], domain=DOMAIN, checkov=["CKV_AWS_58"]),
    resource_policy("eks-control-plane-logging", "EKS logs every control-plane log type.",
                    eks_control_plane_logging, level=MANDATORY, types=[t.EKS_CLUSTER], domain=DOMAIN,
                    checkov=["CKV_AWS_37"]),
    resource_policy("node-imdsv2-hop-limit", "Nodes require IMDSv2 and answer metadata requests one hop away only.",
                    node_metadata_v2, level=MANDATORY, types=[t.LAUNCH_TEMPLATE], domain=DOMAIN,
                    checkov=["CKV_AWS_79", "CKV_AWS_341"]),
    resource_policy("app-health-probes", "Application containers have readiness and liveness probes on /api/health.",
                    probes_on_health, level=MANDATORY, types=[t.DEPLOYMENT], domain=DOMAIN),
    stack_policy("app-replicas-match-instance-count", "The application runs the region's instance count of replicas.",
                 app_replicas, level=MANDATORY, domain=DOMAIN,
                 config={"appName": {"type": "string", "default": APP_NAME}}),
    stack_policy("hpa-minimum-matches-instance-count", "The application's autoscaler never goes below the region's instance count.",
                 hpa_minimum, level=MANDATORY, domain=DOMAIN,
                 config={"appName": {"type": "string", "default": APP_NAME}}),
    stack_policy("app-disruption-budget", "The application has a PodDisruptionBudget.",
                 disruption_budget, level=MANDATORY, domain=DOMAIN,
                 config={"appName": {"type": "string", "default": APP_NAME}}),
]
