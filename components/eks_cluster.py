"""The region's Kubernetes cluster: EKS from plain pulumi-aws resources, so that every
piece shows in the plan.

- the control plane in the private-app subnets, reachable on its private endpoint only
  (from the platform's VPCs, i.e. through the admin VPN or a runner inside) unless the
  config names public CIDRs; Kubernetes secrets envelope-encrypted with the regional
  key; every control-plane log type on;
- a managed node group across the three AZs, sized from the region's instance count;
  on-demand, spot only outside production (checked in `infra/config/`). Its launch
  template puts the cluster security group and the app tier's group on every node's
  interfaces, so pods (which share the node's interfaces with the VPC CNI's defaults)
  reach the proxy, the database and Redis, whose groups admit the app group. EKS adds the
  cluster group by itself only when the template names no group (EKS user guide,
  "Customize managed nodes with launch templates": security groups), so the template
  lists both. IMDSv2 only, hop limit 1: every pod that calls AWS (the app, External
  Secrets, the cluster autoscaler) takes its credentials through IRSA and is given its
  region, so none needs the instance metadata, and pods never borrow the node role (EKS
  user guide, "Amazon EKS security best practices": restricting access to the IMDS; the
  "hop limit 2" of "Customize managed nodes with launch templates" is only for
  containers that do use IMDSv2). The instance type stays on the node group alone (EKS
  fails a group whose template names one too). The template's tag specifications tag
  every node's instance, root volume and network interfaces with the stack's tags: the
  provider's default tags reach only a resource's own `tags`, never the instances an
  Auto Scaling group launches (terraform-provider-aws issue 19387);
- the IAM roles with the managed policies they need, and an OIDC provider so that pods
  take IAM roles through their service accounts (IRSA).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from infra.domain.cluster_addons import autoscaler_tags

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
NODE_TAGGED_RESOURCES = ("instance", "volume", "network-interface")
GRAVITON_FAMILIES = ("a1", "c6g", "c7g", "c8g", "m6g", "m7g", "m8g", "r6g", "r7g", "r8g", "t4g")


def _slug(policy: str) -> str:
    """`AmazonEKS_CNI_Policy` -> `amazoneks-cni-policy`: resource names stay lowercase slugs."""
    return policy.lower().replace("_", "-")


def node_counts(instances: int, max_instances: int, pods_per_node: int, zones: int = 3) -> tuple[int, int, int]:
    """(minimum, desired, maximum) nodes: one node per AZ at least, room for the autoscaler's
    maximum, plus one node of headroom for rolling updates."""
    desired = max(zones, math.ceil(instances / pods_per_node) + 1)
    maximum = max(desired, math.ceil(max_instances / pods_per_node) + 1)
    return zones, desired, maximum


def ami_type(instance_type: str) -> str:
    return "AL2023_ARM_64_STANDARD" if instance_type.split(".")[0] in GRAVITON_FAMILIES else "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of `EksCluster`."""

    version: str
    subnet_ids: pulumi.Input[Sequence[str]]
    """The private-app subnets (control plane ENIs and nodes)."""
    vpc_id: pulumi.Input[str]
    api_allowed_cidrs: Sequence[str]
    """Networks that may reach the private API endpoint (the platform's VPCs)."""
    kms_key_arn: pulumi.Input[str]
    instance_type: str
    spot: bool
    instances: int
    max_instances: int
    pods_per_node: int
    public_access_cidrs: Sequence[str] = field(default_factory=tuple)
    node_security_group_ids: pulumi.Input[Sequence[str]] = field(default_factory=tuple)
    """Groups the nodes carry besides the cluster security group (the app tier's)."""
    node_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every node's instance, volumes and network interfaces (the stack's default tags)."""


class EksCluster(pulumi.ComponentResource):
    """Cluster, node group, roles and the OIDC provider."""

    cluster: aws.eks.Cluster
    node_group: aws.eks.NodeGroup
    oidc_provider: aws.iam.OpenIdConnectProvider
    name: pulumi.Output[str]
    node_counts: tuple[int, int, int]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:workloads:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        cluster_role = aws.iam.Role(f"{name}-cluster-role", assume_role_policy=service_trust_policy("eks.amazonaws.com"),
                                    opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-cluster-{_slug(policy)}", role=cluster_role.name,
                                                    policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=child)
                       for policy in CLUSTER_POLICIES]
        api = aws.ec2.SecurityGroup(f"{name}-api", vpc_id=args.vpc_id, revoke_rules_on_delete=True,
                                    description="EKS API: HTTPS from the platform's networks",
                                    tags={"tier": "eks-api"}, opts=child)
        for i, cidr in enumerate(args.api_allowed_cidrs):
            aws.vpc.SecurityGroupIngressRule(f"{name}-api-in-{cidr.replace('.', '-').replace('/', '-')}",
                                             security_group_id=api.id, ip_protocol="tcp", from_port=443, to_port=443,
                                             cidr_ipv4=cidr, description="Kubernetes API from a platform VPC",
                                             opts=child)
        public = bool(args.public_access_cidrs)
        self.cluster = aws.eks.Cluster(
            f"{name}",
            version=args.version,
            role_arn=cluster_role.arn,
            vpc_config={"subnet_ids": args.subnet_ids, "security_group_ids": [api.id],
                        "endpoint_private_access": True, "endpoint_public_access": public,
                        **({"public_access_cidrs": list(args.public_access_cidrs)} if public else {})},
            encryption_config={"provider": {"key_arn": args.kms_key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=LOG_TYPES,
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            upgrade_policy={"support_type": "STANDARD"},
            deletion_protection=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )
        self.name = self.cluster.name

        issuer = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer,
                                                           client_id_lists=["sts.amazonaws.com"], opts=child)

        node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=service_trust_policy("ec2.amazonaws.com"),
                                 opts=child)
        node_attachments = [aws.iam.RolePolicyAttachment(f"{name}-node-{_slug(policy)}", role=node_role.name,
                                                         policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=child)
                            for policy in NODE_POLICIES]
        cluster_group = self.cluster.vpc_config.apply(lambda c: c.cluster_security_group_id)
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            name_prefix=f"{name}-nodes-",
            description="EKS nodes: the cluster group and the app tier's group; IMDSv2 only",
            vpc_security_group_ids=pulumi.Output.all(cluster_group, args.node_security_group_ids).apply(
                lambda v: [v[0], *v[1]]),
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                              "http_put_response_hop_limit": 1},
            tag_specifications=[{"resource_type": kind, "tags": {**args.node_tags, "Name": f"{name}-node"}}
                                for kind in NODE_TAGGED_RESOURCES],
            update_default_version=True,
            opts=child,
        )
        self.node_counts = node_counts(args.instances, args.max_instances, args.pods_per_node)
        low, desired, high = self.node_counts
        self.node_group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=self.cluster.name,
            node_group_name_prefix=f"{name}-nodes-",
            node_role_arn=node_role.arn,
            subnet_ids=args.subnet_ids,
            launch_template={"id": self.launch_template.id, "version": self.launch_template.latest_version.apply(str)},
            instance_types=[args.instance_type],
            ami_type=ami_type(args.instance_type),
            capacity_type="SPOT" if args.spot else "ON_DEMAND",
            scaling_config={"min_size": low, "desired_size": desired, "max_size": high},
            update_config={"max_unavailable": 1},
            labels={"hse/role": "app"},
            tags=self.cluster.name.apply(autoscaler_tags),
            # The cluster autoscaler and a failover's scale-up change the desired size.
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_attachments,
                                        ignore_changes=["scalingConfig.desiredSize"]),
        )
        self.register_outputs({"name": self.name, "endpoint": self.cluster.endpoint,
                               "nodeGroupName": self.node_group.node_group_name,
                               "oidcProviderArn": self.oidc_provider.arn})

    def service_account_role(self, name: str, namespace: str, service_account: str,
                             policy: pulumi.Input[str]) -> aws.iam.Role:
        """An IAM role that only `namespace/service_account` of this cluster can assume (IRSA)."""
        issuer = self.oidc_provider.url

        def trust(values: list) -> str:
            arn, host = values
            return json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                               f"{host}:aud": "sts.amazonaws.com"}}}]})

        role = aws.iam.Role(name, assume_role_policy=pulumi.Output.all(self.oidc_provider.arn, issuer).apply(trust),
                            opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=pulumi.ResourceOptions(parent=self))
        return role
