"""Decisions of the flow verifier (and of the policies it judges) that a mutation pass found
untested: each test takes one decision both ways, with literal values.

The evaluator and the network model are exercised on small hand-made plans (a few
resources of one stack), the flows on the real plans with one realistic edit each.
"""

from __future__ import annotations

import copy
import json

import pytest

from components.redis_cluster import rotation_policy
from infra.domain.cluster_addons import autoscaler_policy
from infra.engine.plan import Resource, StackPlan
from infra.flows.iam import Policy, Request, evaluate
from infra.flows.identity import Identities
from infra.flows.network import Endpoint, Network
from infra.flows.plans import PlanSet
from infra.tiers.workloads import app_policy
from tests.flows.conftest import Editable

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/mrk-1"
BUCKET_OBJECT = "arn:aws:s3:::uploads/a.png"


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- the IAM evaluator --------------------------------------------------------------------
def on_resource(principal: dict, request: Request) -> bool:
    policy = Policy("bucket", doc({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                                   "Resource": BUCKET_OBJECT}))
    return evaluate(request, identity=[], resource=policy).allowed


def test_an_aws_principal_element_does_not_name_a_service():
    service = Request("cloudfront.amazonaws.com", "s3:GetObject", BUCKET_OBJECT, {}, service_principal=True)
    assert on_resource({"Service": "cloudfront.amazonaws.com"}, service) is True
    assert on_resource({"AWS": "cloudfront.amazonaws.com"}, service) is False


def test_an_aws_wildcard_principal_names_every_aws_caller():
    role = Request(ROLE, "s3:GetObject", BUCKET_OBJECT)
    assert on_resource({"AWS": "*"}, role) is True
    assert on_resource({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"}, role) is False


def test_a_federated_principal_element_names_one_provider():
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/AAAA"
    other = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BBBB"
    trust = Policy("trust", doc({"Effect": "Allow", "Principal": {"Federated": provider},
                                 "Action": "sts:AssumeRoleWithWebIdentity"}))
    assert evaluate(Request(provider, "sts:AssumeRoleWithWebIdentity", ROLE), identity=[], resource=trust).allowed
    assert not evaluate(Request(other, "sts:AssumeRoleWithWebIdentity", ROLE), identity=[], resource=trust).allowed


@pytest.mark.parametrize("value,context,allowed", [
    ("True", "true", True), ("true", "TRUE", True), ("True", "false", False), ("false", "true", False)])
def test_bool_compares_true_and_false_whatever_their_case(value, context, allowed):
    policy = Policy("identity", doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECT,
                                     "Condition": {"Bool": {"aws:SecureTransport": value}}}))
    request = Request(ROLE, "s3:GetObject", BUCKET_OBJECT, {"aws:SecureTransport": context})
    assert evaluate(request, identity=[policy]).allowed is allowed


@pytest.mark.parametrize("secure,allowed", [("false", False), ("true", True)])
def test_a_deny_in_the_resource_policy_wins_over_an_identity_allow(secure, allowed):
    identity = Policy("identity", doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECT}))
    bucket = Policy("bucket", doc({"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                   "Resource": BUCKET_OBJECT, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    decision = evaluate(Request(ROLE, "s3:GetObject", BUCKET_OBJECT, {"aws:SecureTransport": secure}),
                        identity=[identity], resource=bucket)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason == "explicitly denied by bucket statement TlsOnly"


def decrypt(key_statements, context=None):
    identity = Policy("identity", doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}))
    return evaluate(Request(ROLE, "kms:Decrypt", KEY, context or {}), identity=[identity],
                    resource=Policy("key", doc(*key_statements)), kms_key=True, account=ACCOUNT)


@pytest.mark.parametrize("principal,delegates", [
    ({"AWS": ROOT}, True), ({"AWS": ACCOUNT}, True), ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"}, False),
    ({"AWS": "arn:aws:iam::444455556666:root"}, False)])
def test_only_the_accounts_root_in_a_key_policy_delegates_to_iam(principal, delegates):
    decision = decrypt([{"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}])
    assert decision.allowed is delegates
    if delegates:
        assert decision.reason == "allowed by identity statement 0 (the key policy delegates to IAM)"


def test_a_deny_to_the_root_does_not_delegate():
    assert not decrypt([{"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*"}]).allowed
    assert decrypt([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*"}]).allowed


def test_the_root_statement_delegates_only_its_actions_under_its_conditions():
    assert not decrypt([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:DescribeKey",
                         "Resource": "*"}]).allowed
    via = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*",
           "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}}
    assert not decrypt([via]).allowed
    assert not decrypt([via], {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}).allowed
    assert decrypt([via], {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}).allowed


# -- hand-made plans ----------------------------------------------------------------------
def res(type_: str, logical: str, id_: str = "", **props) -> Resource:
    return Resource(urn=f"urn:pulumi:t::hse::{type_}::{logical}", type=type_, name=logical, custom=True, id=id_ or logical,
                    inputs=dict(props), outputs=dict(props))


def planset(*resources: Resource) -> PlanSet:
    return PlanSet([StackPlan("hse", "t", list(resources))])


# -- identities: key policies and resource policies ---------------------------------------
def identities(key_statements, role_statements) -> Identities:
    return Identities(planset(
        res("aws:iam/role:Role", "app", "app", arn=ROLE, name="app", assumeRolePolicy=doc()),
        res("aws:iam/rolePolicy:RolePolicy", "app-policy", role="app", policy=doc(*role_statements)),
        res("aws:kms/key:Key", "key", "mrk-1", arn=KEY, policy=doc(*key_statements))))


ROOT_STATEMENT = {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
LOGS_STATEMENT = {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*",
                  "Resource": "*"}
DECRYPT = {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}


def test_a_roles_key_call_needs_the_key_policy_of_the_keys_own_account():
    hop = identities([ROOT_STATEMENT], [DECRYPT]).may("decrypt", ROLE, "kms:Decrypt", KEY)
    assert hop.ok and hop.detail == "allowed by app-policy (inline policy of app) statement Decrypt " \
                                    "(the key policy delegates to IAM)"
    hop = identities([LOGS_STATEMENT], [DECRYPT]).may("decrypt", ROLE, "kms:Decrypt", KEY)
    assert not hop.ok and hop.detail.startswith("no statement of key policy of key allows kms:Decrypt")
    assert not identities([ROOT_STATEMENT], []).may("decrypt", ROLE, "kms:Decrypt", KEY).ok


def test_a_bucket_policy_covers_its_own_bucket_only():
    ids = Identities(planset(res("aws:s3/bucketPolicy:BucketPolicy", "uploads-policy", bucket="uploads", policy=doc()),
                             res("aws:sns/topicPolicy:TopicPolicy", "topic-policy",
                                 arn=f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms", policy=doc())))
    assert ids.resource_policy("arn:aws:s3:::uploads/a.png").source == "uploads-policy"
    assert ids.resource_policy("arn:aws:s3:::hse-uploads/a.png") is None
    assert ids.resource_policy(f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms").source == "topic-policy"
    assert ids.resource_policy(f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms-other") is None


# -- the network model --------------------------------------------------------------------
SUBNET, GROUP = "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup"
OUT, IN = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ASSOCIATION, ROUTE = "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/route:Route"
ACL = "aws:ec2/networkAcl:NetworkAcl"


def vpcs() -> list[Resource]:
    """vpc-a 10.0.0.0/16 (app, data and public subnets) and vpc-b 10.1.0.0/16 (a data subnet)."""
    return [res(SUBNET, "app-a", "subnet-app", cidrBlock="10.0.1.0/24", vpcId="vpc-a"),
            res(SUBNET, "data-a", "subnet-data", cidrBlock="10.0.2.0/24", vpcId="vpc-a"),
            res(SUBNET, "data-a2", "subnet-data2", cidrBlock="10.0.3.0/24", vpcId="vpc-a"),
            res(SUBNET, "public-a", "subnet-public", cidrBlock="10.0.0.0/24", vpcId="vpc-a"),
            res(SUBNET, "data-b", "subnet-peer", cidrBlock="10.1.2.0/24", vpcId="vpc-b"),
            res(GROUP, "sg-app", "sg-app", vpcId="vpc-a"), res(GROUP, "sg-data", "sg-data", vpcId="vpc-a"),
            res(GROUP, "sg-peer", "sg-peer", vpcId="vpc-b")]


def rule(type_: str, name: str, group: str, protocol: str = "tcp", port: int = 5432, cidr: str = "",
         peer: str = "") -> Resource:
    return res(type_, name, securityGroupId=group, ipProtocol=protocol, fromPort=port, toPort=port,
               cidrIpv4=cidr or None, referencedSecurityGroupId=peer or None)


def hop(hops, name):
    return next(h for h in hops if h.name == name)


APP = Endpoint("app", ("subnet-app",), ("sg-app",))
DATA = Endpoint("data", ("subnet-data",), ("sg-data",))
PEER = Endpoint("peer data", ("subnet-peer",), ("sg-peer",))


@pytest.mark.parametrize("protocol,ok", [("tcp", True), ("6", True), ("-1", True), ("udp", False), ("17", False)])
def test_only_a_tcp_or_all_traffic_egress_rule_lets_tcp_out(protocol, ok):
    net = Network(planset(*vpcs(), rule(OUT, "app-out", "sg-app", protocol, cidr="10.0.2.0/24")))
    egress = hop(net.connect(APP, DATA, 5432, "t"), "t: egress of app")
    assert egress.ok is ok
    assert egress.detail == ("tcp/5432 allowed by app-out" if ok else
                             "no egress rule of sg-app allows tcp/5432 to 10.0.2.0/24")


def test_egress_must_reach_every_subnet_of_the_receiver():
    both = Endpoint("data", ("subnet-data", "subnet-data2"), ("sg-data",))
    one = Network(planset(*vpcs(), rule(OUT, "app-out", "sg-app", cidr="10.0.2.0/24")))
    egress = hop(one.connect(APP, both, 5432, "t"), "t: egress of app")
    assert not egress.ok and egress.detail == "no egress rule of sg-app allows tcp/5432 to 10.0.3.0/24"
    whole = Network(planset(*vpcs(), rule(OUT, "app-out", "sg-app", cidr="10.0.2.0/23")))
    assert hop(whole.connect(APP, both, 5432, "t"), "t: egress of app").ok


def test_a_group_reference_admits_interfaces_of_its_own_vpc_only():
    same = Network(planset(*vpcs(), rule(IN, "data-in-app", "sg-data", peer="sg-app")))
    ingress = hop(same.connect(APP, DATA, 5432, "t"), "t: ingress of data")
    assert ingress.ok and ingress.detail == "tcp/5432 admitted by data-in-app"
    across = Network(planset(*vpcs(), rule(IN, "peer-in-app", "sg-peer", peer="sg-app")))
    ingress = hop(across.connect(APP, PEER, 5432, "t"), "t: ingress of peer data")
    assert not ingress.ok and ingress.detail == "no ingress rule of sg-peer admits tcp/5432 from 10.0.1.0/24"


def test_the_cluster_security_group_admits_its_own_members_only():
    eks = res("aws:eks/cluster:Cluster", "eks", "hse-eks",
              vpcConfig={"clusterSecurityGroupId": "sg-eks", "subnetIds": ["subnet-app"]})
    net = Network(planset(*vpcs(), eks, rule(OUT, "app-out", "sg-app", "-1", 0, cidr="0.0.0.0/0")))
    api = Endpoint("api", ("subnet-data",), ("sg-eks",))
    member = hop(net.connect(Endpoint("nodes", ("subnet-app",), ("sg-eks",)), api, 443, "t"), "t: ingress of api")
    assert member.ok and member.detail == "tcp/443 admitted by the cluster security group of eks"
    outsider = hop(net.connect(APP, api, 443, "t"), "t: ingress of api")
    assert not outsider.ok and outsider.detail == ("no ingress rule of the cluster security group EKS makes for eks "
                                                   "admits tcp/443 from 10.0.1.0/24")


def peering(app_route_pcx: str, peer_route_pcx: str, pcx_ends: dict[str, tuple[str, str]]) -> list[Resource]:
    found = [res(ASSOCIATION, "app-rta", subnetId="subnet-app", routeTableId="rtb-app"),
             res(ASSOCIATION, "peer-rta", subnetId="subnet-peer", routeTableId="rtb-peer"),
             res(ROUTE, "app-to-b", routeTableId="rtb-app", destinationCidrBlock="10.1.0.0/16",
                 vpcPeeringConnectionId=app_route_pcx),
             res(ROUTE, "b-to-a", routeTableId="rtb-peer", destinationCidrBlock="10.0.0.0/16",
                 vpcPeeringConnectionId=peer_route_pcx)]
    for pcx, (a, b) in pcx_ends.items():
        found += [res("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", f"{pcx}-request", pcx, vpcId=a, peerVpcId=b),
                  res("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", f"{pcx}-accept",
                      vpcPeeringConnectionId=pcx, autoAccept=True)]
    return found


def routes(net: Network) -> list:
    return [h for h in net.connect(Endpoint("app", ("subnet-app",)), Endpoint("peer", ("subnet-peer",)), 5432, "t")
            if ": route" in h.name]


def test_a_peering_route_to_the_right_vpcs_passes():
    joined = routes(Network(planset(*vpcs(), *peering("pcx-1", "pcx-1", {"pcx-1": ("vpc-a", "vpc-b")}))))
    assert [(h.name, h.ok) for h in joined] == [("t: routes", True)]


@pytest.mark.parametrize("ends", [("vpc-a", "vpc-c"), ("vpc-c", "vpc-b")])
def test_a_peering_route_must_join_both_vpcs_at_both_ends(ends):
    # app's route goes through a peering that misses one of the two VPCs; the way back is right.
    wrong = routes(Network(planset(*vpcs(), *peering("pcx-1", "pcx-2", {"pcx-1": ends,
                                                                           "pcx-2": ("vpc-b", "vpc-a")}))))
    assert [(h.name, h.ok, h.detail) for h in wrong] == [
        ("t: route app → peer", False, "app-to-b targets pcx-1-request, which does not join these VPCs")]


def internet_via_nat(public_gateway: str) -> Network:
    return Network(planset(
        *vpcs(), res(ASSOCIATION, "app-rta", subnetId="subnet-app", routeTableId="rtb-app"),
        res(ROUTE, "app-default", routeTableId="rtb-app", destinationCidrBlock="0.0.0.0/0", natGatewayId="nat-1"),
        res("aws:ec2/natGateway:NatGateway", "nat", "nat-1", subnetId="subnet-public"),
        res(ASSOCIATION, "public-rta", subnetId="subnet-public", routeTableId="rtb-public"),
        res(ROUTE, "public-default", routeTableId="rtb-public", destinationCidrBlock="0.0.0.0/0",
            gatewayId=public_gateway)))


INTERNET = Endpoint("internet", cidrs=("0.0.0.0/0",))


def test_a_nat_gateway_reaches_the_internet_only_from_a_subnet_routed_to_an_internet_gateway():
    ok = routes_to_internet(internet_via_nat("igw-1"), "subnet-app")
    assert ok == [("t: routes", True, "app-default → nat → internet gateway (every sending subnet, and back)")]
    assert routes_to_internet(internet_via_nat("vgw-1"), "subnet-app") == [
        ("t: route src → internet", False, "nat is not in a subnet routed to an internet gateway")]


def routes_to_internet(net: Network, subnet: str) -> list:
    return [(h.name, h.ok, h.detail) for h in net.connect(Endpoint("src", (subnet,)), INTERNET, 443, "t")
            if ": route" in h.name]


def test_only_an_igw_gateway_is_an_internet_gateway():
    assert routes_to_internet(internet_via_nat("igw-1"), "subnet-public") == [
        ("t: routes", True, "public-default → internet gateway (every sending subnet, and back)")]
    assert routes_to_internet(internet_via_nat("vgw-1"), "subnet-public") == [
        ("t: route src → internet", False, "public-default leads nowhere usable for 0.0.0.0/0")]


def entry(number: int, action: str, protocol: str = "-1", ports: tuple[int, int] = (0, 0),
          cidr: str = "0.0.0.0/0") -> dict:
    return {"ruleNo": number, "action": action, "protocol": protocol, "fromPort": ports[0], "toPort": ports[1],
            "cidrBlock": cidr}


ALLOW_ALL = [entry(100, "allow")]


def acls(ingress: list[dict], egress: list[dict] = ALLOW_ALL, on: str = "subnet-data", port: int = 5432):
    net = Network(planset(*vpcs(), res(ACL, "data-acl", subnetIds=[on], ingress=ingress, egress=egress)))
    found = hop(net.connect(Endpoint("a", ("subnet-app",)), Endpoint("b", ("subnet-data",)), port, "t"),
                "t: network ACLs")
    return found.ok, found.detail


def test_the_lowest_numbered_matching_acl_entry_decides_whatever_the_list_order():
    deny = entry(100, "deny", "tcp", (5432, 5432), "10.0.0.0/16")
    assert acls([entry(200, "allow"), deny]) == (False, "data-acl denies ingress tcp/5432 for 10.0.1.0/24")
    assert acls([entry(200, "allow"), dict(deny, ruleNo=300)]) == (
        True, "default network ACLs, or the program's admit the traffic")


def test_an_acl_entry_for_other_ports_does_not_decide():
    entries = [entry(100, "deny", "tcp", (22, 22)), entry(200, "allow")]
    assert acls(entries, port=5432)[0] is True
    assert acls(entries, port=22) == (False, "data-acl denies ingress tcp/22 for 10.0.1.0/24")


@pytest.mark.parametrize("protocol", ["udp", "17", "icmp", "1"])
def test_an_acl_entry_for_another_protocol_does_not_decide_tcp(protocol):
    assert acls([entry(100, "deny", protocol, (5432, 5432)), entry(200, "allow")])[0] is True
    assert acls([entry(100, "allow", protocol, (5432, 5432))]) == (False, "data-acl denies ingress tcp/5432 for 10.0.1.0/24")


def test_an_acl_without_a_matching_entry_denies():
    assert acls([entry(100, "allow", "tcp", (5432, 5432), "10.9.0.0/16")]) == (
        False, "data-acl denies ingress tcp/5432 for 10.0.1.0/24")
    assert acls([entry(100, "allow", "tcp", (5432, 5432), "10.0.1.0/24")])[0] is True


def test_the_senders_acl_is_read_for_egress():
    deny_out = [entry(100, "deny", "tcp", (5432, 5432)), entry(200, "allow")]
    assert acls(ALLOW_ALL, deny_out, on="subnet-app") == (False, "data-acl denies egress tcp/5432 for 10.0.2.0/24")
    assert acls(ALLOW_ALL, ALLOW_ALL, on="subnet-app")[0] is True


# -- flows on the real plans --------------------------------------------------------------
def blocking(editable: Editable, stack: str, flow: str):
    result = editable.verdict(stack, flow)
    assert not result.ok, f"{stack}/{flow} still holds"
    return result.blocking


def holds(editable: Editable, stack: str, flow: str) -> None:
    result = editable.verdict(stack, flow)
    assert result.ok, f"{stack}/{flow}: {result.blocking and result.blocking.detail}"


def edit_env(editable: Editable, stack: str, name: str, value: str) -> None:
    deployment = editable.of_type(stack, "kubernetes:apps/v1:Deployment")[0]
    spec = copy.deepcopy(deployment.outputs.get("spec") or deployment.inputs["spec"])
    for item in spec["template"]["spec"]["containers"][0]["env"]:
        if item["name"] == name:
            item["value"] = value
    editable.set(deployment, "spec", spec)


def env(editable: Editable, stack: str, name: str) -> str:
    deployment = editable.of_type(stack, "kubernetes:apps/v1:Deployment")[0]
    spec = deployment.outputs.get("spec") or deployment.inputs["spec"]
    return next(e["value"] for e in spec["template"]["spec"]["containers"][0]["env"] if e["name"] == name)


def test_the_load_balancer_must_terminate_tls_on_443(broken):
    service = broken.find("eu-west", "hse-eu-west-app-blue-lb")
    metadata = copy.deepcopy(service.outputs["metadata"])
    metadata["annotations"]["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] = "8443"
    broken.set(service, "metadata", metadata)
    hop_ = blocking(broken, "eu-west", "read")
    assert (hop_.name, hop_.detail) == ("eu-west NLB → app pods", "hse-eu-west-app-blue-lb does not terminate TLS on 443")


def test_the_app_must_use_the_redis_endpoint_the_plan_declares(broken):
    holds(broken, "eu-west", "read")
    edit_env(broken, "eu-west", "REDIS_CONFIGURATION_ENDPOINT", "clustercfg.elsewhere.cache.amazonaws.com")
    hop_ = blocking(broken, "eu-west", "read")
    assert hop_.name == "eu-west app: Redis endpoint"
    assert hop_.detail.startswith("REDIS_CONFIGURATION_ENDPOINT is 'clustercfg.elsewhere.cache.amazonaws.com', "
                                  "the plan's endpoint is 'clustercfg.hse-eu-west-cache-")


def test_a_secondary_reads_from_its_read_only_endpoint_not_its_writer(broken):
    writer = broken.of_type("eu-west", "aws:rds/proxy:Proxy")[0].outputs["endpoint"]
    edit_env(broken, "eu-west", "DB_ENDPOINT", writer)
    hop_ = blocking(broken, "eu-west", "read")
    assert hop_.name == "eu-west app: read endpoint" and hop_.detail.startswith(f"DB_ENDPOINT is {writer}; ")
    # The primary may read on its writer.
    edit_env(broken, "us-east", "DB_ENDPOINT", broken.of_type("us-east", "aws:rds/proxy:Proxy")[0].outputs["endpoint"])
    holds(broken, "us-east", "read")


@pytest.mark.parametrize("policy,port", [("match-viewer", 443), ("http-only", 443), ("https-only", 8443)])
def test_the_cdn_reaches_its_origin_over_https_on_443_only(broken, policy, port):
    distribution = broken.find("us-east", "hse-us-east-cdn-distribution")
    origins = copy.deepcopy(distribution.outputs["origins"])
    for origin in origins:
        if origin["originId"] == "app":
            origin["customOriginConfig"].update(originProtocolPolicy=policy, httpsPort=port)
    broken.set(distribution, "origins", origins)
    hop_ = blocking(broken, "us-east", "cdn-origin")
    assert (hop_.name, hop_.detail) == ("us-east CDN → origin app", "origin is not reached over HTTPS on 443")


@pytest.mark.parametrize("type_,port", [("HTTPS", 80), ("HTTP", 443)])
def test_a_health_check_probes_https_on_443(broken, type_, port):
    check = broken.find("eu-west", "hse-eu-west-dns-health")
    broken.set(check, "type", type_)
    broken.set(check, "port", port)
    hop_ = blocking(broken, "eu-west", "health-check")
    assert hop_.detail == "not an HTTPS check on 443" and hop_.resource == "hse-eu-west-dns-health"


def test_a_cache_alarm_must_read_a_node_of_a_declared_replication_group(broken):
    alarm = broken.find("eu-west", "hse-eu-west-cache-alarm-cpu")
    queries = copy.deepcopy(alarm.outputs["metricQueries"])
    queries[0]["metric"]["dimensions"] = {"CacheClusterId": "hse-other-cache-0001-001"}
    broken.set(alarm, "metricQueries", queries)
    hop_ = blocking(broken, "eu-west", "metrics")
    assert hop_.resource == "hse-eu-west-cache-alarm-cpu"
    assert hop_.detail == "no replication group of the plans has node hse-other-cache-0001-001"


def test_a_database_alarm_must_read_a_declared_cluster(broken):
    alarm = broken.find("eu-west", "hse-eu-west-db-alarms-cpu")
    broken.set(alarm, "dimensions", {"DBClusterIdentifier": "hse-other-db-cluster"})
    hop_ = blocking(broken, "eu-west", "metrics")
    assert hop_.resource == "hse-eu-west-db-alarms-cpu" and hop_.detail == "no cluster hse-other-db-cluster in the plans"


CACHE_INVOKE = "hse-eu-west-cache-platform-rotation-invoke"


@pytest.mark.parametrize("key,value", [
    ("sourceArn", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:hse/production/eu-west/cache/other"),
    ("principal", "events.amazonaws.com")])
def test_secrets_manager_must_be_allowed_to_invoke_the_function_for_this_secret(broken, key, value):
    broken.set(broken.find("eu-west", CACHE_INVOKE), key, value)
    hop_ = blocking(broken, "eu-west", "rotation")
    assert hop_.name.startswith("eu-west rotation of hse/production/eu-west/cache/platform-")
    assert hop_.name.endswith(": invoke")
    assert hop_.detail == "no permission lets Secrets Manager invoke hse-eu-west-cache-platform-rotation-fn"


def test_the_rotation_role_must_be_allowed_to_stage_the_new_version(broken):
    policy = broken.find("eu-west", "hse-eu-west-cache-platform-rotation-policy")

    def drop(document: dict) -> None:
        for statement in document["Statement"]:
            if statement["Sid"] == "TheTenantsSecret":
                statement["Action"] = [a for a in statement["Action"] if a != "secretsmanager:UpdateSecretVersionStage"]
    broken.edit_json(policy, "policy", drop)
    hop_ = blocking(broken, "eu-west", "rotation")
    assert hop_.name.endswith(": secretsmanager:UpdateSecretVersionStage")
    assert hop_.resource == "hse-eu-west-cache-platform-rotation-role"


def test_an_elasticache_user_rotation_application_serves_one_secret_only(broken):
    app = broken.find("us-east", "hse-us-east-db-credentials-rotation-fn")
    broken.set(app, "applicationId",
               "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerElasticacheUserRotation")
    holds(broken, "us-east", "rotation")
    rotation = broken.find("us-east", "hse-us-east-db-credentials-rotation")
    broken.clone("us-east", rotation.name, secretId="arn:aws:secretsmanager:us-east-1:111122223333:secret:hse/other")
    hop_ = blocking(broken, "us-east", "rotation")
    assert hop_.resource == rotation.name and hop_.detail.endswith(
        "serves 2 secrets; AWS's ElastiCache user rotation function rotates only the secret of its SECRET_ARN")


@pytest.mark.parametrize("key,value", [("principal", "secretsmanager.amazonaws.com"), ("action", "lambda:GetFunction")])
def test_the_controller_is_invoked_only_through_a_permission_for_eventbridge(broken, key, value):
    broken.set(broken.find("us-east", "hse-us-east-failover-health-forwarded-invoke"), key, value)
    hop_ = blocking(broken, "us-east", "failover-controller")
    assert hop_.name == "us-east health alarm → controller: invoke" and hop_.resource == "hse-us-east-failover-function"


@pytest.mark.parametrize("cidrs,ok", [([], False), (["0.0.0.0/0"], False), (["203.0.113.0/24"], True)])
def test_a_public_endpoint_needs_a_restricted_cidr_list(broken, cidrs, ok):
    cluster = broken.of_type("eu-west", "aws:eks/cluster:Cluster")[0]
    broken.set(cluster, "vpcConfig", dict(cluster.outputs["vpcConfig"], endpointPublicAccess=True,
                                          publicAccessCidrs=cidrs))
    result = broken.verdict("eu-west", "deployer")
    assert result.ok is ok
    assert result.hops[0].detail == ("public endpoint restricted to 203.0.113.0/24 (the deployer's networks)" if ok
                                     else "the public endpoint admits the whole internet")


@pytest.mark.parametrize("low,high,ok", [(3, 3, False), (3, 4, True)])
def test_the_node_group_needs_room_to_grow(broken, low, high, ok):
    nodes = broken.of_type("eu-west", "aws:eks/nodeGroup:NodeGroup")[0]
    broken.set(nodes, "scalingConfig", dict(nodes.outputs["scalingConfig"], minSize=low, maxSize=high, desiredSize=low))
    room = hop(broken.verdict("eu-west", "autoscaling").hops, "eu-west node group room")
    assert room.ok is ok
    assert room.detail == ("3..4 nodes" if ok else "the node group cannot grow (max = min)")


def test_the_autoscaler_must_discover_this_cluster(broken):
    release = broken.find("eu-west", "hse-eu-west-addons-cluster-autoscaler")
    values = copy.deepcopy(release.outputs.get("values") or release.inputs["values"])
    values["autoDiscovery"] = {"clusterName": "hse-other-eks"}
    broken.set(release, "values", values)
    hop_ = blocking(broken, "eu-west", "autoscaling")
    assert hop_.name == "eu-west cluster autoscaler: discovery"
    assert hop_.detail.startswith("discovers {'clusterName': 'hse-other-eks'}, the cluster is hse-eu-west-eks-")


def test_an_hpa_must_target_a_declared_deployment(broken):
    hpa = broken.find("eu-west", "hse-eu-west-app-blue-hpa")
    spec = copy.deepcopy(hpa.outputs.get("spec") or hpa.inputs["spec"])
    spec["scaleTargetRef"]["name"] = "hse-app-green"
    broken.set(hpa, "spec", spec)
    hop_ = blocking(broken, "eu-west", "autoscaling")
    assert (hop_.name, hop_.detail) == ("eu-west HPA hse-eu-west-app-blue-hpa",
                                        "targets 'hse-app-green' or its bounds are wrong")


def test_the_app_reads_the_failover_state_only_where_the_table_has_a_replica(broken):
    # The table lives in the controller's region (eu-west-1) with replicas in the others.
    table = broken.find("us-east", "hse-us-east-failover-state")
    replicas = [r for r in table.outputs["replicas"] if r["regionName"] != "ap-southeast-1"]
    broken.set(table, "replicas", replicas)
    holds(broken, "us-east", "app-aws")
    hop_ = blocking(broken, "ap-se", "app-aws")
    assert (hop_.name, hop_.detail) == ("ap-se app → failover state",
                                        "the state table hse-us-east-failover-state has no replica in ap-southeast-1")


# -- the policies the flows judge, exactly --------------------------------------------------
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:hse/production/eu-west/cache/acme-AbCdEf"
USER = f"arn:aws:elasticache:eu-west-1:{ACCOUNT}:user:hse-production-eu-west-acme"


@pytest.mark.parametrize("action,resource,context,allowed", [
    ("secretsmanager:DescribeSecret", SECRET, {}, True),
    ("secretsmanager:DescribeSecret", SECRET.replace("acme", "globex"), {}, False),
    ("secretsmanager:GetRandomPassword", "*", {}, True),
    ("elasticache:DescribeUsers", USER, {}, True),
    ("elasticache:ModifyUser", USER.replace("acme", "globex"), {}, False),
    ("kms:Decrypt", KEY, {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}, True),
    ("kms:Decrypt", KEY, {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}, False),
    ("kms:Decrypt", KEY, {}, False),
])
def test_the_rotation_policy_under_the_evaluator(action, resource, context, allowed):
    policy = Policy("rotation", rotation_policy(SECRET, USER, KEY, "eu-west-1"))
    assert evaluate(Request(ROLE, action, resource, context), identity=[policy]).allowed is allowed


def test_the_app_policy_grants_no_sign_in_without_a_proxy():
    proxy = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db-proxy:prx-0123"
    secrets = [f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db"]
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k"
    with_proxy = json.loads(app_policy(ACCOUNT, proxy, "hse_admin", "eu-west-1", "state", secrets, key))["Statement"]
    assert with_proxy[0] == {"Sid": "SignInToTheProxy", "Effect": "Allow", "Action": "rds-db:connect",
                             "Resource": f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:prx-0123/hse_admin"}
    without = json.loads(app_policy(ACCOUNT, "", "hse_admin", "eu-west-1", "state", secrets, key))["Statement"]
    assert [s["Sid"] for s in without] == ["ReadItsSecrets", "DecryptItsSecrets", "ReadTheFailoverState",
                                           "PublishTheAppsMetrics"]
    assert without == with_proxy[1:]


def test_the_autoscaler_discovers_with_exactly_the_documented_reads():
    discover, scale = autoscaler_policy("hse-eu-west-eks")["Statement"]
    assert discover == {"Sid": "Discover", "Effect": "Allow", "Resource": "*", "Action": [
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup"]}
    assert scale == {"Sid": "ScaleThisClustersGroups", "Effect": "Allow", "Resource": "*", "Action": [
        "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        "Condition": {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/hse-eu-west-eks": "owned"}}}


def test_a_bucket_policy_applies_to_its_own_bucket_only(broken):
    from infra.flows.identity import Identities
    from infra.flows.plans import PlanSet
    identities = Identities(PlanSet(broken.all()))
    policy = broken.find("us-east", "hse-us-east-cdn-uploads-policy")
    bucket = policy.inputs["bucket"]
    assert identities.resource_policy(f"arn:aws:s3:::{bucket}/uploads/a.png") is not None
    assert identities.resource_policy(f"arn:aws:s3:::{bucket}") is not None
    assert identities.resource_policy(f"arn:aws:s3:::{bucket}-archive/uploads/a.png") is None
