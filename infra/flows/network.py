"""Can a packet get from one set of network interfaces to another, and its answer back?

Read from the plans: the security groups the sender's interfaces carry (egress) and the
receiver's (ingress), the route tables of both subnets (local, NAT, internet gateway or a
peering connection that joins the two VPCs and is accepted, in both directions), and the
network ACLs of both subnets. AWS's rules as modelled here:
- a security group a Pulumi/Terraform program creates starts with no egress rule (the
  provider removes the default allow-all), so egress must be granted explicitly;
- a rule that references a security group matches only interfaces in the same VPC (an
  inter-Region peering connection cannot reference a peer's group: VPC peering guide,
  "Update your security groups to reference peer security groups");
- the cluster security group EKS creates (the cluster's `clusterSecurityGroupId`) admits
  everything from itself and sends anywhere (EKS user guide, "View Amazon EKS security
  group requirements for clusters");
- a subnet without a network ACL of the program's has the VPC's default ACL, which admits
  all traffic; a route table is chosen by the subnet's association, the longest prefix wins.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from infra.flows.plans import Found, PlanSet
from infra.flows.result import Hop, blocked, missing, passed

INTERNET = "0.0.0.0/0"
_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@dataclass(frozen=True)
class Endpoint:
    """Network interfaces that send or receive: in subnets of the plans, carrying security
    groups, or addresses outside every VPC of the plans (the internet, VPN clients)."""

    label: str
    subnets: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Rule:
    group: str
    protocol: str
    from_port: int
    to_port: int
    cidr: str = ""
    peer_group: str = ""
    source: str = ""

    def allows(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        return self.protocol in ("tcp", "6") and self.from_port <= port <= self.to_port


def _net(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.ip_network(cidr, strict=False)


def _within(inner: str, outer: str) -> bool:
    try:
        return _net(inner).subnet_of(_net(outer))
    except (TypeError, ValueError):
        return False


class Network:
    """The network facts of every plan, and the question `connect(src, dst, port)`."""

    def __init__(self, plans: PlanSet) -> None:
        self.plans = plans
        self.subnets: dict[str, Found] = {f.resource.id: f for f in plans.of_type("aws:ec2/subnet:Subnet")}
        self.vpc_of_group: dict[str, str] = {
            f.resource.id: f.get("vpcId", "") for f in plans.of_type("aws:ec2/securityGroup:SecurityGroup")}
        self.group_names: dict[str, str] = {
            f.resource.id: f.name for f in plans.of_type("aws:ec2/securityGroup:SecurityGroup")}
        self.egress: dict[str, list[_Rule]] = {}
        self.ingress: dict[str, list[_Rule]] = {}
        for type_, table in ((_EGRESS, self.egress), (_INGRESS, self.ingress)):
            for f in plans.of_type(type_):
                rule = _Rule(group=f.get("securityGroupId", ""), protocol=str(f.get("ipProtocol", "")),
                             from_port=int(f.get("fromPort", -1) or -1), to_port=int(f.get("toPort", -1) or -1),
                             cidr=f.get("cidrIpv4", "") or "", peer_group=f.get("referencedSecurityGroupId", "") or "",
                             source=f.name)
                table.setdefault(rule.group, []).append(rule)
        self._eks_cluster_groups()
        self.associations = {f.get("subnetId"): f.get("routeTableId")
                             for f in plans.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
        self.routes: dict[str, list[Found]] = {}
        for f in plans.of_type("aws:ec2/route:Route"):
            self.routes.setdefault(f.get("routeTableId", ""), []).append(f)
        self.peerings: dict[str, Found] = {
            f.resource.id: f for f in plans.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")}
        self.accepted = {f.get("vpcPeeringConnectionId") for f in
                         plans.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
                         if f.get("autoAccept")}
        self.nats = {f.resource.id: f for f in plans.of_type("aws:ec2/natGateway:NatGateway")}
        self.acls = list(plans.of_type("aws:ec2/networkAcl:NetworkAcl"))

    def _eks_cluster_groups(self) -> None:
        for f in self.plans.of_type("aws:eks/cluster:Cluster"):
            config = f.get("vpcConfig") or {}
            group = config.get("clusterSecurityGroupId")
            if not group:
                continue
            subnets = [self.subnets[s] for s in config.get("subnetIds", []) if s in self.subnets]
            self.vpc_of_group[group] = subnets[0].get("vpcId", "") if subnets else ""
            self.group_names[group] = f"the cluster security group EKS makes for {f.name}"
            label = f"the cluster security group of {f.name}"
            self.ingress.setdefault(group, []).append(_Rule(group, "-1", 0, 65535, peer_group=group, source=label))
            self.egress.setdefault(group, []).append(_Rule(group, "-1", 0, 65535, cidr=INTERNET, source=label))

    # -- facts --------------------------------------------------------------------------
    def cidr(self, subnet: str) -> str:
        return self.subnets[subnet].get("cidrBlock", "")

    def vpc(self, subnet: str) -> str:
        return self.subnets[subnet].get("vpcId", "")

    def _cidrs(self, end: Endpoint) -> list[str]:
        return [self.cidr(s) for s in end.subnets if s in self.subnets] + list(end.cidrs)

    def _group(self, group: str) -> str:
        return self.group_names.get(group, group)

    # -- the question -------------------------------------------------------------------
    def connect(self, src: Endpoint, dst: Endpoint, port: int, what: str) -> list[Hop]:
        """The hops of `src` reaching `dst` on TCP `port`: placement, egress, routes both
        ways, network ACLs, ingress. Every hop is returned; the first failing one blocks."""
        hops: list[Hop] = []
        unknown = [s for s in src.subnets + dst.subnets if s not in self.subnets]
        if unknown or not (src.subnets or src.cidrs) or not (dst.subnets or dst.cidrs):
            if unknown:
                hops.append(missing(f"{what}: placement", f"subnets not in any plan: {', '.join(unknown)}",
                                    unknown[0], complete=self.plans.complete))
            else:
                hops.append(blocked(f"{what}: placement",
                                    f"{src.label if not (src.subnets or src.cidrs) else dst.label} has no subnet"))
            return hops
        hops.append(self._egress(src, dst, port, what))
        hops.extend(self._routes(src, dst, what))
        hops.append(self._acls(src, dst, port, what))
        hops.append(self._ingress(src, dst, port, what))
        return hops

    def _egress(self, src: Endpoint, dst: Endpoint, port: int, what: str) -> Hop:
        name = f"{what}: egress of {src.label}"
        if not src.groups:
            return passed(name, "sender outside the VPCs (no security group)")
        for cidr in self._cidrs(dst):
            dst_vpc = self.vpc(dst.subnets[0]) if dst.subnets else ""
            rule = self._match(src.groups, self.egress, port, cidr, dst.groups, dst_vpc)
            if rule is None:
                return blocked(name, f"no egress rule of {', '.join(map(self._group, src.groups))} allows "
                                     f"tcp/{port} to {cidr}", self._group(src.groups[0]))
        return passed(name, f"tcp/{port} allowed by {rule.source}")

    def _ingress(self, src: Endpoint, dst: Endpoint, port: int, what: str) -> Hop:
        name = f"{what}: ingress of {dst.label}"
        if not dst.groups:
            return passed(name, "receiver outside the VPCs (no security group)")
        src_vpc = self.vpc(src.subnets[0]) if src.subnets else ""
        for cidr in self._cidrs(src):
            rule = self._match(dst.groups, self.ingress, port, cidr, src.groups, src_vpc)
            if rule is None:
                return blocked(name, f"no ingress rule of {', '.join(map(self._group, dst.groups))} admits "
                                     f"tcp/{port} from {cidr}", self._group(dst.groups[0]))
        return passed(name, f"tcp/{port} admitted by {rule.source}")

    def _match(self, groups: Iterable[str], table: dict[str, list[_Rule]], port: int, cidr: str,
               peer_groups: Iterable[str], peer_vpc: str) -> Optional[_Rule]:
        peers = set(peer_groups)
        for group in groups:
            for rule in table.get(group, []):
                if not rule.allows(port):
                    continue
                if rule.peer_group and rule.peer_group in peers \
                        and self.vpc_of_group.get(rule.peer_group) == self.vpc_of_group.get(group) == peer_vpc:
                    return rule
                if rule.cidr and _within(cidr, rule.cidr):
                    return rule
        return None

    def _routes(self, src: Endpoint, dst: Endpoint, what: str) -> list[Hop]:
        hops = []
        for a in src.subnets:
            for target in (dst.subnets or ()):
                hop = self._route(a, self.cidr(target), self.vpc(target), f"{what}: route {src.label} → {dst.label}")
                if not hop.ok:
                    return [hop]
                back = self._route(target, self.cidr(a), self.vpc(a), f"{what}: route back {dst.label} → {src.label}")
                if not back.ok:
                    return [hop, back]
            for cidr in dst.cidrs:
                hop = self._route(a, cidr, "", f"{what}: route {src.label} → {dst.label}")
                if not hop.ok:
                    return [hop]
        if not hops and src.subnets:
            first = self._route(src.subnets[0], self._cidrs(dst)[0], self.vpc(dst.subnets[0]) if dst.subnets else "",
                                f"{what}: routes")
            hops.append(passed(f"{what}: routes", f"{first.detail} (every sending subnet, and back)"))
        elif not src.subnets:
            hops.append(passed(f"{what}: routes", "sender outside the VPCs; the receiver's subnets answer it below"))
            for target in dst.subnets:
                for cidr in src.cidrs:
                    back = self._route(target, cidr, "", f"{what}: route back {dst.label} → {src.label}")
                    if not back.ok:
                        return [back]
        return hops

    def _route(self, subnet: str, cidr: str, dst_vpc: str, name: str) -> Hop:
        """The route `subnet` uses for `cidr`, and whether it leads there."""
        vpc = self.vpc(subnet)
        if dst_vpc and dst_vpc == vpc:
            return passed(name, "local route of the VPC")
        table = self.associations.get(subnet)
        subnet_name = self.subnets[subnet].name
        if not table:
            return blocked(name, f"subnet {subnet_name} has no route table association (the main table has "
                                 "only the local route)", subnet_name)
        candidates = [r for r in self.routes.get(table, []) if _within(cidr, r.get("destinationCidrBlock", "") or "")]
        if not candidates:
            return blocked(name, f"route table of {subnet_name} has no route to {cidr}", subnet_name)
        route = max(candidates, key=lambda r: _net(r.get("destinationCidrBlock")).prefixlen)
        pcx = route.get("vpcPeeringConnectionId")
        if pcx:
            return self._peering(pcx, vpc, dst_vpc, route, name)
        if dst_vpc:
            return blocked(name, f"{route.name} sends {cidr} to {route.get('natGatewayId') or route.get('gatewayId')}"
                                 ", not to a peering connection", route.name)
        nat = route.get("natGatewayId")
        if nat:
            return self._nat(nat, route, name)
        if str(route.get("gatewayId", "")).startswith("igw-"):
            return passed(name, f"{route.name} → internet gateway")
        return blocked(name, f"{route.name} leads nowhere usable for {cidr}", route.name)

    def _peering(self, pcx: str, vpc: str, dst_vpc: str, route: Found, name: str) -> Hop:
        peering = self.peerings.get(pcx)
        if peering is None:
            return missing(name, f"{route.name} targets {pcx}, which no plan declares", route.name,
                           complete=self.plans.complete)
        ends = {peering.get("vpcId"), peering.get("peerVpcId")}
        if ends != {vpc, dst_vpc}:
            return blocked(name, f"{route.name} targets {peering.name}, which does not join these VPCs", route.name)
        if pcx not in self.accepted:
            return blocked(name, f"{peering.name} is never accepted", peering.name)
        return passed(name, f"{route.name} → {peering.name} (accepted)")

    def _nat(self, nat: str, route: Found, name: str) -> Hop:
        gateway = self.nats.get(nat)
        if gateway is None:
            return blocked(name, f"{route.name} targets {nat}, which no plan declares", route.name)
        public = self._route(gateway.get("subnetId", ""), INTERNET, "", name) \
            if gateway.get("subnetId") in self.subnets else None
        if public is None or not public.ok or "internet gateway" not in public.detail:
            return blocked(name, f"{gateway.name} is not in a subnet routed to an internet gateway", gateway.name)
        return passed(name, f"{route.name} → {gateway.name} → internet gateway")

    def _acls(self, src: Endpoint, dst: Endpoint, port: int, what: str) -> Hop:
        name = f"{what}: network ACLs"
        for subnet, direction, peer in ([(s, "egress", c) for s in src.subnets for c in self._cidrs(dst)]
                                        + [(s, "ingress", c) for s in dst.subnets for c in self._cidrs(src)]):
            acl = next((a for a in self.acls if subnet in (a.get("subnetIds") or [])), None)
            if acl is None:
                continue
            if not _acl_allows(acl.get(direction) or [], port, peer):
                return blocked(name, f"{acl.name} denies {direction} tcp/{port} for {peer}", acl.name)
        return passed(name, "default network ACLs, or the program's admit the traffic")


def _acl_allows(entries: list[dict[str, Any]], port: int, cidr: str) -> bool:
    """A network ACL's verdict: the lowest-numbered matching entry decides; none denies."""
    for entry in sorted(entries, key=lambda e: int(e.get("ruleNo", 32767))):
        protocol = str(entry.get("protocol", ""))
        if protocol not in ("-1", "tcp", "6"):
            continue
        if protocol != "-1" and not int(entry.get("fromPort", 0)) <= port <= int(entry.get("toPort", 0)):
            continue
        if not _within(cidr, entry.get("cidrBlock", "") or ""):
            continue
        return entry.get("action") == "allow"
    return False
