"""What the offline cloud answers for the workloads and observability tiers: EKS, the OIDC
provider, SNS, dashboards, GuardDuty, Security Hub, CloudTrail, Client VPN, and the
load balancer status Kubernetes reports for a Service of type LoadBalancer.
"""

from __future__ import annotations

import base64
import uuid

from infra.engine.aws_data import Answer, Context


def _eks_cluster(c: Context) -> str:
    name = str(c.get("name"))
    issuer_id = c.digest[:32].upper()
    c.outputs.update(
        arn=c.arn("eks", f"cluster/{name}"), status="ACTIVE", platformVersion="eks.1",
        endpoint=f"https://{issuer_id}.gr7.{c.region}.eks.amazonaws.com",
        certificateAuthority={"data": base64.b64encode(f"offline CA of {name}".encode()).decode()},
        identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{c.region}.amazonaws.com/id/{issuer_id}"}]}],
        vpcConfig={**(c.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{c.digest[32:49]}",
                   "vpcId": (c.get("vpcConfig") or {}).get("vpcId", "")})
    return name


def _node_group(c: Context) -> str:
    name = str(c.outputs.get("nodeGroupName"))
    cluster = str(c.get("clusterName"))
    c.outputs.update(arn=c.arn("eks", f"nodegroup/{cluster}/{name}/{uuid.UUID(c.digest[:32])}"), status="ACTIVE",
                     resources=[{"autoscalingGroups": [{"name": f"eks-{name}-{c.digest[:8]}"}],
                                 "remoteAccessSecurityGroupId": ""}])
    return f"{cluster}:{name}"


def _launch_template(c: Context) -> str:
    template_id = f"lt-{c.digest[:17]}"
    name = str(c.get("name") or f"{c.get('namePrefix') or ''}{c.digest[:8]}")
    c.outputs.update(arn=c.arn("ec2", f"launch-template/{template_id}"), name=name, latestVersion=1,
                     defaultVersion=1)
    return template_id


def _oidc_provider(c: Context) -> str:
    url = str(c.get("url")).removeprefix("https://")
    arn = f"arn:aws:iam::{c.account}:oidc-provider/{url}"
    c.outputs.update(arn=arn, url=url)
    return arn


def _topic(c: Context) -> str:
    arn = c.arn("sns", str(c.get("name")))
    c.outputs.update(arn=arn, owner=c.account)
    return arn


def _subscription(c: Context) -> str:
    arn = f"{c.get('topic')}:{uuid.UUID(c.digest[:32])}"
    c.outputs.update(arn=arn, pendingConfirmation=c.get("protocol") == "email")
    return arn


def _dashboard(c: Context) -> str:
    name = str(c.get("dashboardName"))
    c.outputs["dashboardArn"] = f"arn:aws:cloudwatch::{c.account}:dashboard/{name}"
    return name


def _trail(c: Context) -> str:
    name = str(c.get("name"))
    c.outputs.update(arn=c.arn("cloudtrail", f"trail/{name}"), homeRegion=c.region)
    return name


def _vpn_endpoint(c: Context) -> str:
    endpoint_id = f"cvpn-endpoint-{c.digest[:17]}"
    c.outputs.update(arn=c.arn("ec2", f"client-vpn-endpoint/{endpoint_id}"),
                     dnsName=f"*.{endpoint_id}.prod.clientvpn.{c.region}.amazonaws.com")
    return endpoint_id


ANSWERS: dict[str, Answer] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:ec2/tag:Tag": lambda c: f"{c.get('resourceId')},{c.get('key')}",
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicPolicy:TopicPolicy": lambda c: str(c.get("arn")),
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:guardduty/detector:Detector": lambda c: c.digest[:32],
    "aws:securityhub/account:Account": lambda c: c.account,
    "aws:cloudtrail/trail:Trail": _trail,
    "aws:ec2clientvpn/endpoint:Endpoint": _vpn_endpoint,
    "aws:ec2clientvpn/networkAssociation:NetworkAssociation": lambda c: f"cvpn-assoc-{c.digest[:17]}",
    "aws:ec2clientvpn/authorizationRule:AuthorizationRule":
        lambda c: f"{c.get('clientVpnEndpointId')},{c.get('targetNetworkCidr')}",
    "aws:ec2clientvpn/route:Route":
        lambda c: f"{c.get('clientVpnEndpointId')},{c.get('targetVpcSubnetId')},{c.get('destinationCidrBlock')}",
}


def _load_balancer_service(c: Context) -> str:
    spec = c.inputs.get("spec") or {}
    if spec.get("type") == "LoadBalancer":
        c.outputs["status"] = {"loadBalancer": {"ingress": [
            {"hostname": f"a{c.digest[:31]}-{c.digest[31:47]}.elb.{c.region}.amazonaws.com"}]}}
    metadata = c.inputs.get("metadata") or {}
    return f"{metadata.get('namespace', 'default')}/{metadata.get('name', c.name)}"


OTHER_ANSWERS: dict[str, Answer] = {
    "kubernetes:core/v1:Service": _load_balancer_service,
}
