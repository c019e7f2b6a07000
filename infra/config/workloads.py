"""The application and its cluster: the model of `hse:app*` and `hse:cluster*` keys and
their checks (images pinned, versions offered by EKS, HPA bounds, colours, VPN).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from pydantic import Field

from infra.domain.problems import Problem
from infra.config.base import NAMESPACE, Section

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


class AppConfig(Section):
    """The application tier."""

    instance_count: int = Field(alias="appInstanceCount",
                                description="Application instances the region runs (the spec: 5 in the primary, 3 in each secondary).")
    port: int = Field(8080, alias="appPort",
                      description="TCP port the application listens on behind the regional load balancer.")
    image: str = Field("ghcr.io/hse-digital/app:1.0.0", alias="appImage",
                       description="Container image of the application, with a tag or digest (never :latest).")
    max_instance_count: int = Field(15, alias="appMaxInstanceCount",
                                    description="Most application instances the autoscaler may run, at least "
                                                "appInstanceCount and at most 100.")
    cpu_target_percent: int = Field(70, alias="appCpuTargetPercent",
                                    description="Average CPU use (of requests) the autoscaler keeps, 10 to 95.")
    memory_target_percent: int = Field(80, alias="appMemoryTargetPercent",
                                       description="Average memory use (of requests) the autoscaler keeps, 10 to 95.")
    cpu_millicores: int = Field(500, alias="appCpuMillicores",
                                description="CPU each instance requests in millicores (its limit is twice that), 100 to 4000.")
    memory_mib: int = Field(1024, alias="appMemoryMib",
                            description="Memory each instance requests and is limited to, in MiB, 256 to 16384.")
    colours: list[str] = Field(default_factory=lambda: ["blue"], alias="appColours",
                               description="Colours deployed side by side for blue-green releases: blue, green or both.")
    active_colour: str = Field("blue", alias="appActiveColour",
                               description="The colour the regional load balancer serves; one of appColours.")


class ClusterConfig(Section):
    """The region's Kubernetes cluster (EKS) and its managed node group."""

    kubernetes_version: str = Field("1.33", alias="kubernetesVersion",
                                    description="EKS Kubernetes version, major.minor: 1.31 to 1.35.")
    public_access_cidrs: list[str] = Field(default_factory=list, alias="eksPublicAccessCidrs",
                                           description="The networks `pulumi up` runs from (a CI runner's egress): "
                                                       "the cluster's public API endpoint admits only them. Required "
                                                       "unless eksDeployerInsideVpc.")
    deployer_inside_vpc: bool = Field(False, alias="eksDeployerInsideVpc",
                                      description="`pulumi up` runs inside a platform VPC or over the admin VPN, so "
                                                  "the API endpoint stays private only; not for a stack's first "
                                                  "deploy, which needs eksPublicAccessCidrs.")
    node_instance_type: str = Field("m7g.large", alias="nodeInstanceType",
                                    description="EC2 instance type of the worker nodes (Graviton types run the ARM image).")
    node_spot: bool = Field(False, alias="nodeSpot",
                            description="Spot capacity for the worker nodes; allowed only outside production.")
    pods_per_node: int = Field(2, alias="nodePodsPerNode",
                               description="Application instances one node carries, 1 to 20 (sizes the node group).")


KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")


COLOURS = ("blue", "green")


ACM_ARN = re.compile(r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")


IMAGE = re.compile(r"^[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})$")


INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def _valid_network(cidr: str) -> bool:
    try:
        ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        return False
    return True


def check_workloads(cfg: StackConfig) -> list[Problem]:
    app, cluster, obs = cfg.app, cfg.cluster, cfg.observability
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    if not IMAGE.match(app.image) or app.image.endswith(":latest"):
        bad("appImage", f"{app.image!r} is not a pinned image; valid: <registry>/<repository>:<tag> or @sha256:<digest>, "
                        "e.g. ghcr.io/hse-digital/app:1.4.2 (not :latest)")
    if not (app.instance_count <= app.max_instance_count <= 100):
        bad("appMaxInstanceCount", f"{app.max_instance_count} is out of range; expected appInstanceCount "
                                   f"({app.instance_count}) to 100: the autoscaler's maximum cannot be below its minimum")
    for key, value in (("appCpuTargetPercent", app.cpu_target_percent), ("appMemoryTargetPercent", app.memory_target_percent)):
        if not (10 <= value <= 95):
            bad(key, f"{value} is out of range; expected 10 to 95 percent")
    if not (100 <= app.cpu_millicores <= 4000):
        bad("appCpuMillicores", f"{app.cpu_millicores} is out of range; expected 100 to 4000 millicores")
    if not (256 <= app.memory_mib <= 16384):
        bad("appMemoryMib", f"{app.memory_mib} is out of range; expected 256 to 16384 MiB")
    unknown = [c for c in app.colours if c not in COLOURS]
    if unknown or not app.colours or len(set(app.colours)) != len(app.colours):
        bad("appColours", f"{app.colours} is not a set of colours; valid: one or both of {', '.join(COLOURS)}")
    elif app.active_colour not in app.colours:
        bad("appActiveColour", f"{app.active_colour!r} is not deployed; valid: one of appColours ({', '.join(app.colours)})")
    if cluster.kubernetes_version not in KUBERNETES_VERSIONS:
        bad("kubernetesVersion", f"{cluster.kubernetes_version!r} is not a supported EKS version; "
                                 f"valid: {', '.join(KUBERNETES_VERSIONS)}")
    for cidr in cluster.public_access_cidrs:
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            bad("eksPublicAccessCidrs", f"{cidr!r} is not an IPv4 network; valid: e.g. 203.0.113.0/24")
            continue
        if network.prefixlen < 16:
            bad("eksPublicAccessCidrs", f"{cidr} opens the cluster API to too much of the internet; valid: /16 or narrower")
    if not cluster.public_access_cidrs and not cluster.deployer_inside_vpc:
        bad("eksPublicAccessCidrs", "is empty and hse:eksDeployerInsideVpc is false: the first `pulumi up` could not "
                                    "reach the cluster's private API endpoint (the Kubernetes provider runs in the same "
                                    "deploy that creates the cluster); valid: the networks `pulumi up` runs from, e.g. "
                                    "[203.0.113.0/24], or hse:eksDeployerInsideVpc: true for a runner inside a "
                                    "platform VPC")
    if cfg.environment == "production" and cluster.node_spot:
        bad("nodeSpot", "spot capacity can be reclaimed at two minutes' notice; it is allowed only outside "
                        "production (set hse:environment to a dev or test name, or turn nodeSpot off)")
    if not INSTANCE_TYPE.match(cluster.node_instance_type):
        bad("nodeInstanceType", f"{cluster.node_instance_type!r} is not an EC2 instance type; valid: e.g. m7g.large")
    if not (1 <= cluster.pods_per_node <= 20):
        bad("nodePodsPerNode", f"{cluster.pods_per_node} is out of range; expected 1 to 20")
    for address in obs.alarm_emails:
        if not EMAIL.match(address):
            bad("alarmEmails", f"{address!r} is not an e-mail address")
    if not (100 <= obs.latency_alarm_ms <= 10_000):
        bad("latencyAlarmMs", f"{obs.latency_alarm_ms} is out of range; expected 100 to 10000 ms")
    if not (1 <= obs.error_rate_alarm_percent <= 50):
        bad("errorRateAlarmPercent", f"{obs.error_rate_alarm_percent} is out of range; expected 1 to 50 percent")
    for key, arn in (("vpnServerCertificateArn", obs.vpn_server_certificate_arn),
                     ("vpnClientRootCertificateArn", obs.vpn_client_root_certificate_arn)):
        if arn and not ACM_ARN.match(arn):
            bad(key, f"{arn!r} is not an ACM certificate ARN; valid: arn:aws:acm:<region>:<account>:certificate/<id>")
    if bool(obs.vpn_server_certificate_arn) != bool(obs.vpn_client_root_certificate_arn):
        bad("vpnClientRootCertificateArn", "the admin VPN needs both certificates: set vpnServerCertificateArn and "
                                           "vpnClientRootCertificateArn, or neither")
    try:
        client = ipaddress.IPv4Network(obs.vpn_client_cidr, strict=True)
    except ValueError:
        bad("vpnClientCidr", f"{obs.vpn_client_cidr!r} is not an IPv4 network; valid: e.g. 172.16.0.0/22")
    else:
        if not (12 <= client.prefixlen <= 22):
            bad("vpnClientCidr", f"{obs.vpn_client_cidr} is a /{client.prefixlen}; Client VPN takes /12 to /22")
        elif _valid_network(cfg.network.vpc_cidr) and client.overlaps(cfg.network.network):
            bad("vpnClientCidr", f"{obs.vpn_client_cidr} overlaps the VPC {cfg.network.vpc_cidr}; choose addresses "
                                 "outside every VPC")
    if not (30 <= obs.archive_days <= 3650):
        bad("storageArchiveDays", f"{obs.archive_days} is out of range; expected 30 to 3650 days")
    return problems
