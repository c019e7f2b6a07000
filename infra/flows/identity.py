"""Who may call what, from the policy documents in the plans.

Roles with their inline policies and attached customer-managed policies, the trust
policy that lets a caller become the role (a service, or a Kubernetes service account
through the cluster's OIDC provider: EKS user guide, "IAM roles for service accounts"),
and the resource policies of keys, buckets, topics, queues and secrets. AWS-managed
policies are not in any plan; the few whose grants a flow relies on are listed below
with the actions they are documented to grant.
"""

from __future__ import annotations

from typing import Any, Optional

from infra.flows.iam import Decision, Policy, Request, evaluate, parse
from infra.flows.plans import Found, PlanSet
from infra.flows.result import Hop, blocked, missing, passed

# AWS-managed policies a flow relies on, with the grants their documentation lists.
AWS_MANAGED: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {"Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}]},
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": {"Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                       "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                                       "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                                       "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
         "Resource": "*"}]},
}

_ROLE = "aws:iam/role:Role"
_KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")
_RESOURCE_POLICIES = {
    "aws:s3/bucketPolicy:BucketPolicy": "bucket",
    "aws:sns/topicPolicy:TopicPolicy": "arn",
    "aws:sqs/queuePolicy:QueuePolicy": "queueUrl",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "secretArn",
}


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class Identities:
    """The roles, their policies and the resource policies of every plan."""

    def __init__(self, plans: PlanSet) -> None:
        self.plans = plans
        self.roles: dict[str, Found] = {}
        for f in plans.of_type(_ROLE):
            self.roles[f.get("arn") or f.get("name") or f.resource.id] = f
        self.inline: dict[str, list[Found]] = {}
        for f in plans.of_type("aws:iam/rolePolicy:RolePolicy"):
            self.inline.setdefault(f.get("role", ""), []).append(f)
        self.attached: dict[str, list[str]] = {}
        for f in plans.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            self.attached.setdefault(f.get("role", ""), []).append(f.get("policyArn", ""))
        self.managed = {f.get("arn"): f for f in plans.of_type("aws:iam/policy:Policy")}

    def role(self, arn: str) -> Optional[Found]:
        return self.roles.get(arn)

    def policies(self, role_arn: str) -> list[Policy]:
        """The identity policies of a role: inline, customer-managed and the AWS-managed listed above."""
        role = self.roles.get(role_arn)
        if role is None:
            return []
        name = role.get("name") or _role_name(role_arn)
        found = [Policy(f"{p.name} (inline policy of {role.name})", p.get("policy")) for p in self.inline.get(name, [])]
        for arn in self.attached.get(name, []):
            if arn in self.managed:
                found.append(Policy(f"{self.managed[arn].name} (attached to {role.name})", self.managed[arn].get("policy")))
            elif arn in AWS_MANAGED:
                found.append(Policy(f"{arn.rsplit('/', 1)[-1]} (AWS managed, attached to {role.name})", AWS_MANAGED[arn]))
        return found

    def key(self, arn: str) -> Optional[Found]:
        for type_ in _KEY_TYPES:
            for f in self.plans.of_type(type_):
                if f.get("arn") == arn:
                    return f
        return None

    def resource_policy(self, arn: str) -> Optional[Policy]:
        """The resource policy of a bucket, topic, queue or secret (by ARN), if the plans hold one."""
        for type_, key in _RESOURCE_POLICIES.items():
            for f in self.plans.of_type(type_):
                target = f.get(key, "")
                bucket = f"arn:aws:s3:::{target}"
                if target and (arn == target or arn == bucket or arn.startswith(f"{bucket}/")):
                    return Policy(f.name, f.get("policy"))
        return None

    # -- hops ---------------------------------------------------------------------------
    def may(self, name: str, role_arn: str, action: str, resource: str,
            context: Optional[dict[str, Any]] = None) -> Hop:
        """Hop: the role may call `action` on `resource` (with the resource's policy, and
        the key policy when the resource is a KMS key)."""
        role = self.roles.get(role_arn)
        if role is None:
            return self._no_role(name, role_arn)
        request = Request(role_arn, action, resource, dict(context or {}))
        key = self.key(resource) if action.startswith("kms:") else None
        if key is not None:
            decision = evaluate(request, identity=self.policies(role_arn),
                                resource=Policy(f"key policy of {key.name}", key.get("policy")),
                                kms_key=True, account=_account(resource))
        else:
            decision = evaluate(request, identity=self.policies(role_arn), resource=self.resource_policy(resource))
        return _hop(name, decision, role.name)

    def service_may(self, name: str, service: str, action: str, resource: str, policy: Optional[Policy],
                    context: Optional[dict[str, Any]] = None, kms_key: bool = False) -> Hop:
        """Hop: an AWS service principal may call `action` under `policy` (a key or resource policy)."""
        if policy is None:
            return blocked(name, f"no resource policy for {resource} lets {service} in", resource)
        request = Request(service, action, resource, dict(context or {}), service_principal=True)
        decision = evaluate(request, identity=[], resource=policy, kms_key=kms_key, account=_account(resource))
        return _hop(name, decision, policy.source)

    def trusts(self, name: str, role_arn: str, principal: str, action: str,
               context: Optional[dict[str, Any]] = None, service: bool = False) -> Hop:
        """Hop: the role's trust policy lets `principal` assume it."""
        role = self.roles.get(role_arn)
        if role is None:
            return self._no_role(name, role_arn)
        request = Request(principal, action, role_arn, dict(context or {}), service_principal=service)
        decision = evaluate(request, identity=[], resource=Policy(f"trust policy of {role.name}",
                                                                   role.get("assumeRolePolicy")))
        return _hop(name, decision, role.name)

    def _no_role(self, name: str, role_arn: str) -> Hop:
        if not role_arn:
            return blocked(name, "the caller has no IAM role")
        return missing(name, f"role {role_arn} is not declared in any plan", role_arn, complete=self.plans.complete)

    def service_account_role(self, name: str, cluster: Found, namespace: str, account_name: str,
                             role_arn: str) -> Hop:
        """Hop: pods of `namespace/account_name` become `role_arn` through IRSA."""
        issuer = _issuer(cluster)
        if not issuer:
            return blocked(name, f"{cluster.name} has no OIDC issuer", cluster.name)
        provider = next((f for f in self.plans.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
                         if f.get("url", "").removeprefix("https://") == issuer), None)
        if provider is None:
            return blocked(name, f"no IAM OIDC provider for {issuer}", cluster.name)
        context = {f"{issuer}:sub": f"system:serviceaccount:{namespace}:{account_name}",
                   f"{issuer}:aud": "sts.amazonaws.com"}
        return self.trusts(name, role_arn, provider.get("arn"), "sts:AssumeRoleWithWebIdentity", context)


def _issuer(cluster: Found) -> str:
    identities = cluster.get("identities") or []
    for identity in identities:
        for oidc in identity.get("oidcs") or []:
            return str(oidc.get("issuer", "")).removeprefix("https://")
    return ""


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _hop(name: str, decision: Decision, resource: str) -> Hop:
    return passed(name, decision.reason, resource) if decision.allowed else blocked(name, decision.reason, resource)


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (re-exported for the flows that read them)."""
    return parse(document)
