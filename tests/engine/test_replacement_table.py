"""The replacement table (infra/data/replacement.json) against the program and the providers'
Python packages: every custom resource type the program can declare, in the default stacks
and in every alternative configuration, has an entry; every listed path is an input property
of its type; and the known cases replace (or update) as their providers say."""

from __future__ import annotations

import importlib
import json
import re
from functools import lru_cache

import pytest

from infra.engine import Engine, StackPlan
from infra.engine.replacement import TABLE, covered_types, forces_replacement, normalize, replace_keys
from tests.conftest import STACKS, copy_project, edit_stack

ZONE_ID = "0123456789abcdef0123456789abcdef"


def custom_types(*plans: StackPlan) -> set[str]:
    return {r.type for plan in plans for r in plan.resources if r.custom and not r.type.startswith("pulumi:")}


@pytest.fixture(scope="module")
def alternatives(tmp_path_factory) -> list[StackPlan]:
    """The primary under the documented alternatives the default stacks do not declare: the
    rds-postgres engine, the Global Datastore, alarm e-mails, and the cloudflare and fastly CDNs."""
    one = copy_project(tmp_path_factory.mktemp("replace-alt") / "project")
    for stack in STACKS:
        edit_stack(one, stack, dbEngine="rds-postgres", dbInstanceClass="db.m6g.large", dbStorageGib=200)
    # Promoting a read replica takes 120 s: only the fast health checks keep the RTO under 300 s.
    edit_stack(one, "us-east", edgeHealthCheckInterval=10, cacheGlobalDatastore=True, alarmEmails=["oncall@example.com"],
               cdnProvider="cloudflare", cloudflareZoneId=ZONE_ID)
    other = copy_project(tmp_path_factory.mktemp("replace-fastly") / "project")
    edit_stack(other, "us-east", cdnProvider="fastly")
    return [Engine(one).plan("us-east"), Engine(other).plan("us-east")]


def test_every_declared_type_has_an_entry(plans, alternatives) -> None:
    default = custom_types(*plans.values())
    declared = default | custom_types(*alternatives)
    # The alternatives add types the default stacks do not declare (else they test nothing).
    assert {"aws:rds/instance:Instance", "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
            "aws:sns/topicSubscription:TopicSubscription", "cloudflare:index/ruleset:Ruleset",
            "fastly:index/serviceVcl:ServiceVcl"} <= declared - default
    assert declared - covered_types() == set(), "declared types missing from infra/data/replacement.json"
    assert covered_types() - declared == set(), "table entries for types the program no longer declares"
    for type_ in declared:
        replace_keys(type_)


def test_the_table_is_sorted_and_names_its_sources() -> None:
    doc = json.loads(TABLE.read_text())
    assert set(doc["sources"]) == {"aws", "kubernetes", "random", "tls", "cloudflare", "fastly"}
    assert list(doc["types"]) == sorted(doc["types"])
    for type_, entry in doc["types"].items():
        assert entry["replaceOn"] == sorted(set(entry["replaceOn"])), type_
        assert entry["source"], type_
        assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*(\[\])?(\.[a-z][A-Za-z0-9]*(\[\])?)*", p) for p in entry["replaceOn"]), type_


# -- every listed path is an input of its type, by the provider packages' own property names ---------
_ARGS = re.compile(r"ForwardRef\('([\w.]+Args)'\)")
K8S_MODULES = {"rbac.authorization.k8s.io": "rbac", "helm.sh": "helm"}


def args_class(type_: str) -> type:
    """The `<Resource>Args` class of a type token, from its Python package."""
    package, module, name = type_.split(":")
    if package == "kubernetes":
        group, version = module.split("/")
        if group == "external-secrets.io":  # a custom resource: its metadata is checked, its spec is free-form
            return importlib.import_module("pulumi_kubernetes.apiextensions").CustomResourceArgs
        mod = importlib.import_module(f"pulumi_kubernetes.{K8S_MODULES.get(group, group)}.{version}")
    else:
        path = module.split("/")[0]
        path = {"lambda": "lambda_", "index": ""}.get(path, path)
        mod = importlib.import_module(f"pulumi_{package}" + (f".{path}" if path else ""))
    # The Args class defined beside the resource class (`<Name>InitArgs` where a nested type took `<Name>Args`).
    home = vars(importlib.import_module(getattr(mod, name).__module__))
    return next(home[n] for n in (f"{name}InitArgs", f"{name}Args")
                if n in home and home[n].__module__ == home["__name__"])


@lru_cache(maxsize=None)
def properties(cls: type) -> dict[str, property]:
    """Recorded (camelCase) input name -> the Args property that carries it."""
    return {getattr(p.fget, "_pulumi_name"): p for klass in reversed(cls.__mro__) for p in vars(klass).values()
            if isinstance(p, property) and hasattr(p.fget, "_pulumi_name")}


def nested(cls: type, prop: property) -> list[type]:
    """The Args classes a property's value may hold (objects, lists of objects)."""
    namespace = vars(importlib.import_module(cls.__module__))
    found = []
    for ref in _ARGS.findall(repr(prop.fget.__annotations__.get("return"))):
        head, *rest = ref.split(".")
        value = namespace.get(head)
        for part in rest:
            value = getattr(value, part, None)
        if isinstance(value, type):
            found.append(value)
    return found


def has_path(cls: type, path: str) -> bool:
    head, _, rest = path.partition(".")
    prop = properties(cls).get(head.removesuffix("[]"))
    if prop is None:
        if cls.__name__ == "CustomResourceArgs" and head == "metadata":  # checked against ObjectMeta below
            return has_path(importlib.import_module("pulumi_kubernetes.meta.v1").ObjectMetaArgs, rest)
        return False
    return not rest or any(has_path(inner, rest) for inner in nested(cls, prop))


@pytest.mark.parametrize("type_", sorted(covered_types()))
def test_every_listed_path_is_an_input_of_its_type(type_) -> None:
    cls = args_class(type_)
    assert properties(cls) or cls.__name__ == "CustomResourceArgs"
    missing = [path for path in sorted(replace_keys(type_)) if not has_path(cls, path)]
    assert not missing, f"{type_}: not input properties of {cls.__module__}.{cls.__name__}: {missing}"


# -- known cases, each checked against its provider's source ----------------------------------------
VPC = "aws:ec2/vpc:Vpc"


@pytest.mark.parametrize("type_, path", [
    (VPC, "cidrBlock"),
    ("aws:route53/healthCheck:HealthCheck", "requestInterval"),
    ("aws:route53/healthCheck:HealthCheck", "type"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "globalReplicationGroupId"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "atRestEncryptionEnabled"),
    ("aws:rds/cluster:Cluster", "engine"),
    ("aws:rds/cluster:Cluster", "storageEncrypted"),
    ("aws:rds/cluster:Cluster", "databaseName"),
    ("aws:ec2/subnet:Subnet", "cidrBlock"),
    ("aws:ec2/securityGroup:SecurityGroup", "description"),
    ("aws:eks/cluster:Cluster", "roleArn"),
    ("aws:eks/nodeGroup:NodeGroup", "instanceTypes"),
    ("aws:eks/nodeGroup:NodeGroup", "launchTemplate.id"),
    ("aws:route53/record:Record", "name"),
    ("aws:acm/certificate:Certificate", "subjectAlternativeNames[0]"),
    ("aws:iam/role:Role", "name"),
    ("aws:kms/key:Key", "multiRegion"),
    ("kubernetes:apps/v1:Deployment", "spec.selector.matchLabels.app"),
    ("kubernetes:core/v1:Namespace", "metadata.name"),
    ("kubernetes:core/v1:Service", "spec.clusterIP"),
    ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "roleRef.name"),
    ("kubernetes:helm.sh/v3:Release", "namespace"),
    ("random:index/randomPassword:RandomPassword", "length"),
    ("tls:index/privateKey:PrivateKey", "rsaBits"),
    ("tls:index/selfSignedCert:SelfSignedCert", "subject.commonName"),
    ("cloudflare:index/dnsRecord:DnsRecord", "type"),
    ("fastly:index/tlsSubscription:TlsSubscription", "certificateAuthority"),
])
def test_known_replacements(type_, path) -> None:
    assert forces_replacement(type_, path) is not None


@pytest.mark.parametrize("type_, path", [
    (VPC, "tags"),
    (VPC, "tags.Name"),
    (VPC, "enableDnsHostnames"),
    ("aws:ec2/securityGroup:SecurityGroup", "ingress[0].fromPort"),
    ("aws:ec2/securityGroup:SecurityGroup", "tags.Name"),
    ("aws:route53/healthCheck:HealthCheck", "failureThreshold"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "numNodeGroups"),
    ("aws:rds/cluster:Cluster", "engineVersion"),
    ("aws:rds/cluster:Cluster", "globalClusterIdentifier"),
    ("aws:eks/cluster:Cluster", "version"),
    ("aws:eks/cluster:Cluster", "vpcConfig.publicAccessCidrs[0]"),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.desiredSize"),
    ("aws:eks/nodeGroup:NodeGroup", "launchTemplate.version"),
    ("aws:route53/record:Record", "records[0]"),
    ("aws:iam/role:Role", "assumeRolePolicy"),
    ("aws:cloudfront/distribution:Distribution", "origins[0].domainName"),
    ("kubernetes:apps/v1:Deployment", "spec.replicas"),
    ("kubernetes:apps/v1:Deployment", "spec.template.spec.containers[0].image"),
    ("kubernetes:core/v1:Service", "spec.ports[0].port"),
    ("kubernetes:helm.sh/v3:Release", "values.replicas"),
    ("fastly:index/serviceVcl:ServiceVcl", "snippets[0].content"),
])
def test_known_updates_in_place(type_, path) -> None:
    assert forces_replacement(type_, path) is None


def test_the_prefix_rule_works_both_ways() -> None:
    node_group = "aws:eks/nodeGroup:NodeGroup"
    # A child of a force-new block (remoteAccess is ForceNew as a whole).
    assert forces_replacement(node_group, "remoteAccess.ec2SshKey") == "remoteAccess"
    assert forces_replacement("aws:dynamodb/table:Table", "localSecondaryIndexes[1].name") == "localSecondaryIndexes"
    # A changed, added or removed parent of a force-new child.
    assert forces_replacement(node_group, "launchTemplate") == "launchTemplate.id"
    assert forces_replacement("aws:acm/certificate:Certificate", "validationOptions[0]") == "validationOptions"
    assert forces_replacement("aws:rds/cluster:Cluster", "s3Import") == "s3Import.bucketName"
    # Only whole segments match: a longer name sharing a prefix is another property.
    assert forces_replacement("aws:iam/role:Role", "namePrefixes") is None
    assert forces_replacement("aws:iam/role:Role", "nam") is None
    assert normalize("ingress[12].cidrBlocks[3]") == "ingress[].cidrBlocks[]"


def test_an_unknown_type_is_an_error() -> None:
    with pytest.raises(KeyError):
        replace_keys("aws:ec2/instance:Instance")
    with pytest.raises(KeyError):
        forces_replacement("aws:ec2/instance:Instance", "ami")


def test_an_empty_entry_means_every_input_updates_in_place() -> None:
    assert replace_keys("aws:cloudfront/cachePolicy:CachePolicy") == frozenset()
    assert forces_replacement("aws:cloudfront/cachePolicy:CachePolicy", "name") is None
