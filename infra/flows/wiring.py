"""The wiring between tiers: names that resolve, pods and what they carry, metrics that exist.

- DNS: a name resolves through the Route53 records of the plans (CNAMEs and aliases, every
  routing policy) to a load balancer or a CDN the plans declare.
- Pods: where the app's pods run (the node group's subnets), which security groups their
  interfaces carry (the cluster security group EKS makes, plus the launch template's groups
  when the node group has one), and which Kubernetes service account they run as.
- Metrics: every metric an alarm or a dashboard reads has a publisher with the same
  namespace, name and dimensions: an AWS service for a resource the plans declare, the
  app, or the failover controller.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from infra.flows.network import Endpoint
from infra.flows.plans import Found, PlanSet
from infra.flows.result import Hop, blocked, passed

_RECORD = "aws:route53/record:Record"
_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
_SERVICE = "kubernetes:core/v1:Service"


def _bare(name: str) -> str:
    return name.rstrip(".").lower()


class Dns:
    """The records of every plan, followed from a name to where it leads."""

    def __init__(self, plans: PlanSet) -> None:
        self.plans = plans
        self.records: dict[str, list[Found]] = {}
        for f in plans.of_type(_RECORD):
            self.records.setdefault(_bare(f.get("name", "")), []).append(f)

    def targets(self, record: Found) -> list[str]:
        values = [_bare(v) for v in record.get("records") or []]
        values += [_bare(a.get("name", "")) for a in record.get("aliases") or []]
        return values

    def resolve(self, name: str, terminals: set[str], depth: int = 0) -> Optional[list[str]]:
        """A chain of names from `name` to one of `terminals` (lower-case), or None."""
        name = _bare(name)
        if name in terminals:
            return [name]
        if depth > 8:
            return None
        for record in self.records.get(name, []):
            for target in self.targets(record):
                rest = self.resolve(target, terminals, depth=depth + 1)
                if rest:
                    return [name] + rest
        return None


@dataclass(frozen=True)
class Pods:
    """The app's pods of one stack, as the plans place them."""

    stack: str
    deployment: Optional[Found]
    cluster: Optional[Found]
    node_group: Optional[Found]
    endpoint: Endpoint
    namespace: str
    service_account: str
    env: dict[str, str]


def pods(plans: PlanSet, stack: str) -> Pods:
    """The app's pods in `stack`: node group placement, security groups, service account, env."""
    deployment = next(iter(plans.of_type(_DEPLOYMENT, stack)), None)
    cluster = next(iter(plans.of_type("aws:eks/cluster:Cluster", stack)), None)
    group = next(iter(plans.of_type("aws:eks/nodeGroup:NodeGroup", stack)), None)
    groups: list[str] = []
    if cluster is not None:
        cluster_group = (cluster.get("vpcConfig") or {}).get("clusterSecurityGroupId")
        if cluster_group:
            groups.append(cluster_group)
    if group is not None and group.get("launchTemplate"):
        template_ref = group.get("launchTemplate") or {}
        template = next((t for t in plans.of_type("aws:ec2/launchTemplate:LaunchTemplate")
                         if t.resource.id in (template_ref.get("id"), template_ref.get("name"))
                         or t.get("name") == template_ref.get("name")), None)
        if template is not None:
            # A launch template's groups replace the cluster group unless it lists it too.
            groups = list(template.get("vpcSecurityGroupIds") or []) or groups
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {} if deployment else {}
    container = (spec.get("containers") or [{}])[0]
    env = {e.get("name"): str(e.get("value")) for e in container.get("env") or [] if "value" in e}
    namespace = ((deployment.get("metadata") or {}).get("namespace") or "default") if deployment else ""
    subnets = tuple(group.get("subnetIds") or []) if group else ()
    return Pods(stack, deployment, cluster, group, Endpoint(f"{stack} app pods", subnets, tuple(groups)),
                namespace, spec.get("serviceAccountName") or "default", env)


def container_port(pods_: Pods) -> Optional[int]:
    if pods_.deployment is None:
        return None
    spec = ((pods_.deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            return int(port.get("containerPort"))
    return None


def readiness_path(pods_: Pods) -> str:
    if pods_.deployment is None:
        return ""
    spec = ((pods_.deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in spec.get("containers") or []:
        probe = (container.get("readinessProbe") or {}).get("httpGet") or {}
        return str(probe.get("path", ""))
    return ""


def service_reaches_pods(plans: PlanSet, pods_: Pods, name: str) -> Hop:
    """Hop: a LoadBalancer Service (an NLB on TLS 443) selects the app's pods on their port."""
    if pods_.deployment is None:
        return blocked(name, f"{pods_.stack} declares no app Deployment", pods_.stack)
    labels = ((((pods_.deployment.get("spec") or {}).get("template") or {}).get("metadata") or {})
              .get("labels") or {})
    port = container_port(pods_)
    for service in plans.of_type(_SERVICE, pods_.stack):
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        if spec.get("type") != "LoadBalancer" or not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        ports = spec.get("ports") or []
        listener = next((p for p in ports if int(p.get("port", 0)) == 443), None)
        if listener is None:
            return blocked(name, f"{service.name} does not listen on 443", service.name)
        if listener.get("targetPort") not in (port, str(port), "http"):
            return blocked(name, f"{service.name} sends 443 to {listener.get('targetPort')}, the pods listen on {port}",
                           service.name)
        annotations = (service.get("metadata") or {}).get("annotations") or {}
        if annotations.get("service.beta.kubernetes.io/aws-load-balancer-ssl-ports") != "443" \
                or not annotations.get("service.beta.kubernetes.io/aws-load-balancer-ssl-cert"):
            return blocked(name, f"{service.name} does not terminate TLS on 443", service.name)
        return passed(name, f"{service.name} (NLB, TLS 443) → pods {selector} on {port}", service.name)
    return blocked(name, f"no LoadBalancer Service of {pods_.stack} selects the app's pods", pods_.stack)


def load_balancer_names(plans: PlanSet, stack: str) -> set[str]:
    """Host names of the stack's load balancers (what the Service reports, as the plan recorded it)."""
    names = set()
    for service in plans.of_type(_SERVICE, stack):
        for ingress in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            if ingress.get("hostname"):
                names.add(_bare(ingress["hostname"]))
    hostname = plans.outputs(stack).get("loadBalancerHostname")
    if isinstance(hostname, str) and hostname:
        names.add(_bare(hostname))
    return names


# -- metrics -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    reader: str

    def label(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions) or "no dimensions"
        return f"{self.namespace} {self.name} ({dims})"


_SEARCH = re.compile(r"SEARCH\('\{(?P<schema>[^}]*)\}\s*(?P<terms>[^']*)'")


def _dims(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    return ()


def metrics_read(plans: PlanSet, stack: str) -> list[Metric]:
    """Every metric the stack's alarms and dashboards read (a SEARCH reads a schema: its
    dimension values are left empty)."""
    found: list[Metric] = []
    for alarm in plans.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", stack):
        if alarm.get("metricName"):
            found.append(Metric(alarm.get("namespace", ""), alarm.get("metricName"), _dims(alarm.get("dimensions")),
                                alarm.name))
        for query in alarm.get("metricQueries") or []:
            metric = query.get("metric")
            if metric:
                found.append(Metric(metric.get("namespace", ""), metric.get("metricName", ""),
                                    _dims(metric.get("dimensions")), alarm.name))
    for board in plans.of_type("aws:cloudwatch/dashboard:Dashboard", stack):
        body = json.loads(board.get("dashboardBody") or "{}")
        for widget in body.get("widgets", []):
            for line in (widget.get("properties") or {}).get("metrics") or []:
                found.extend(_widget_metrics(line, f"{board.name}: {widget['properties'].get('title', '')}"))
    return found


def _widget_metrics(line: Any, reader: str) -> Iterable[Metric]:
    items = line if isinstance(line, list) else [line]
    for item in items:
        if isinstance(item, dict) and "expression" in item:
            match = _SEARCH.search(item["expression"])
            if match:
                schema = [s.strip() for s in match.group("schema").split(",")]
                name = re.search(r'MetricName="([^"]+)"', match.group("terms"))
                yield Metric(schema[0], name.group(1) if name else "", tuple((d, "") for d in schema[1:]), reader)
    if isinstance(line, list) and line and isinstance(line[0], str) and len(line) >= 2:
        strings = [x for x in line if isinstance(x, str)]
        pairs = tuple(sorted(zip(strings[2::2], strings[3::2])))
        yield Metric(strings[0], strings[1], pairs, reader)


class Publishers:
    """Who publishes which metric, from the plans and the program's own publishers."""

    def __init__(self, plans: PlanSet, own: dict[tuple[str, str], set[tuple[str, ...]]]) -> None:
        self.plans = plans
        self.own = own
        ids = lambda type_, key: {str(f.get(key)) for f in plans.of_type(type_) if f.get(key)}  # noqa: E731
        self.health_checks = {f.resource.id for f in plans.of_type("aws:route53/healthCheck:HealthCheck")}
        self.clusters = ids("aws:rds/cluster:Cluster", "clusterIdentifier") | ids("aws:rds/cluster:Cluster", "id")
        self.instances = ids("aws:rds/instance:Instance", "identifier")
        self.cache_groups = ids("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId")
        self.distributions = {f.resource.id for f in plans.of_type("aws:cloudfront/distribution:Distribution")}

    def missing_subject(self, problem: str) -> bool:
        """Whether `problem` is only that the resource a metric names is in no plan loaded."""
        return problem.startswith("no ") and " in the plans" in problem

    def check(self, metric: Metric) -> Optional[str]:
        """None when someone publishes `metric`; otherwise what is wrong."""
        dims = dict(metric.dimensions)
        keys = tuple(sorted(dims))
        ns = metric.namespace
        if ns == "AWS/Route53":
            return self._aws(keys, {("HealthCheckId",)}, dims, "HealthCheckId", self.health_checks, "health check")
        if ns == "AWS/RDS":
            if "DBInstanceIdentifier" in dims:
                return self._aws(keys, {("DBInstanceIdentifier",)}, dims, "DBInstanceIdentifier", self.instances,
                                 "instance")
            allowed = {("DBClusterIdentifier",), ("DBClusterIdentifier", "Role")}
            if metric.name == "AuroraGlobalDBReplicationLag":
                # Published per secondary cluster and its source region (components/database_alarms.py).
                allowed = {("DBClusterIdentifier", "SourceRegion")}
            return self._aws(keys, allowed, dims, "DBClusterIdentifier", self.clusters, "cluster")
        if ns == "AWS/ElastiCache":
            node = dims.get("CacheClusterId", "")
            if keys not in {("CacheClusterId",), ("CacheClusterId", "CacheNodeId")}:
                return f"ElastiCache publishes host metrics per CacheClusterId, not {keys}"
            if node and not any(node.startswith(f"{g}-") for g in self.cache_groups):
                return f"no replication group of the plans has node {node}"
            return None
        if ns == "AWS/CloudFront":
            return self._aws(keys, {("DistributionId", "Region")}, dims, "DistributionId", self.distributions,
                             "distribution")
        published = self.own.get((ns, metric.name))
        if published is None:
            return f"nothing the program runs publishes {ns} {metric.name}"
        if keys not in published:
            return f"{ns} {metric.name} is published with dimensions {sorted(published)}, read with {list(keys)}"
        return None

    @staticmethod
    def _aws(keys: tuple[str, ...], allowed: set[tuple[str, ...]], dims: dict[str, str], key: str,
             known: set[str], what: str) -> Optional[str]:
        if keys not in allowed:
            return f"AWS publishes it with dimensions {sorted(allowed)}, read with {list(keys)}"
        value = dims.get(key, "")
        if value and value not in known:
            return f"no {what} {value} in the plans"
        return None
