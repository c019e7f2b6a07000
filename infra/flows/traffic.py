"""The request paths of the spec: a user's read and write, static assets through the CDN,
the CDN to its origin, and the health checks that steer DNS."""

from __future__ import annotations


from infra.flows.network import INTERNET, Endpoint
from infra.flows.places import (Context, cache, cache_endpoint, database, database_endpoint, proxy, proxy_endpoint,
                                read_only_endpoint, secret_store_account, service_account_role)
from infra.flows.result import Hop, blocked, missing, passed
from infra.flows.wiring import Pods, load_balancer_names, readiness_path, service_reaches_pods

USERS = Endpoint("users on the internet", cidrs=(INTERNET,))


def _dns_to_region(ctx: Context, stack: str, name: str, hop: str) -> Hop:
    terminals = load_balancer_names(ctx.plans, stack)
    if not terminals:
        return blocked(hop, f"{stack} has no load balancer host name", stack)
    chain = ctx.dns.resolve(name, terminals)
    if chain is None:
        return blocked(hop, f"{name} resolves to no load balancer of {stack}", name)
    return passed(hop, " → ".join(chain))


def _env(pods: Pods, key: str, expected: str, hop: str) -> Hop:
    got = pods.env.get(key)
    if got is None:
        return blocked(hop, f"the app's pods get no {key}", pods.deployment.name if pods.deployment else pods.stack)
    if expected and got != expected:
        return blocked(hop, f"{key} is {got!r}, the plan's endpoint is {expected!r}",
                       pods.deployment.name if pods.deployment else pods.stack)
    return passed(hop, f"{key} = {got}")


def app_role(ctx: Context, stack: str, pods: Pods) -> tuple[str, Hop]:
    """The app's AWS identity: its service account's IRSA role, and the hop that proves it."""
    hop = f"{stack} app pods: AWS identity"
    role = service_account_role(ctx, stack, pods.namespace, pods.service_account)
    if not role:
        return "", blocked(hop, f"the app runs as service account {pods.namespace}/{pods.service_account}, "
                                "which carries no IAM role (eks.amazonaws.com/role-arn)",
                           pods.deployment.name if pods.deployment else stack)
    if pods.cluster is None:
        return role, blocked(hop, f"{stack} has no EKS cluster", stack)
    return role, ctx.identities.service_account_role(hop, pods.cluster, pods.namespace, pods.service_account, role)


def database_sign_in(ctx: Context, stack: str, pods: Pods, proxy_found, role: str) -> Hop:
    """Hop: the app can sign in to the proxy: IAM (rds-db:connect on the proxy's user) when
    the proxy requires it, else the password its secrets deliver."""
    hop = f"{stack} app → proxy: sign-in"
    auths = proxy_found.get("auths") or []
    needs_iam = any(a.get("iamAuth") == "REQUIRED" for a in auths)
    if not needs_iam:
        store = secret_store_account(ctx, stack, pods.namespace)
        secrets = [a.get("secretArn") for a in auths]
        return passed(hop, f"password from {secrets[0] if secrets else 'the master secret'} via the "
                           f"External Secrets store ({store or 'no store'})") if store else \
            blocked(hop, "the proxy takes passwords, but no External Secrets store delivers them", stack)
    resource_id = str(proxy_found.get("arn", "")).rsplit(":", 1)[-1]
    user = pods.env.get("DB_USER") or pods.env.get("DB_IAM_USER") or "*"
    arn = f"arn:aws:rds-db:{ctx.region(stack)}:{ctx.account(stack)}:dbuser:{resource_id}/{user}"
    if not role:
        return blocked(hop, "the proxy requires IAM authentication and the app has no AWS identity",
                       proxy_found.name)
    return ctx.identities.may(hop, role, "rds-db:connect", arn)


def read_replica(ctx: Context, stack: str):
    """The stack's database when it is an RDS read replica (the rds-postgres engine's
    secondary): no proxy fronts it (RDS Proxy targets only the writer instance), the app
    reaches it directly. None otherwise."""
    db = database(ctx, stack)
    if db is None or db.resource.type != "aws:rds/instance:Instance" or not db.get("replicateSourceDb"):
        return None
    return db


def password_sign_in(ctx: Context, stack: str, pods: Pods, hop: str) -> Hop:
    """The app signs in with the replicated master secret's password, which an External
    Secrets store of its namespace must deliver."""
    store = secret_store_account(ctx, stack, pods.namespace)
    if store:
        return passed(hop, f"password of the replicated master secret, delivered by the store of {store}")
    return blocked(hop, "no External Secrets store delivers the database password", stack)


def direct_to_replica(ctx: Context, stack: str, pods: Pods, db, key: str, hop: str) -> list[Hop]:
    """The app → its region's read replica without a proxy: the endpoint in `key`, the
    network path, and the password the External Secrets store delivers."""
    hops = [_env(pods, key, str(db.get("address", "")), hop)]
    hops += ctx.network.connect(pods.endpoint, database_endpoint(ctx, db, f"{stack} database"), 5432,
                                f"{stack} app → database")
    hops.append(password_sign_in(ctx, stack, pods, f"{stack} app → database: sign-in"))
    return hops


def read(ctx: Context, stack: str) -> list[Hop]:
    """A user's read: app.<domain> → the region's NLB → a pod → the region's read-only
    proxy endpoint (or, on an rds-postgres secondary, its read replica) → the regional
    database; sessions and cache in the regional Redis."""
    pods = ctx.pods(stack)
    outputs = ctx.plans.outputs(stack)
    hops = [_dns_to_region(ctx, stack, outputs.get("appHost", ""), f"DNS {outputs.get('appHost')} → {stack}"),
            service_reaches_pods(ctx.plans, pods, f"{stack} NLB → app pods")]
    role, identity = app_role(ctx, stack, pods)
    hops.append(identity)
    found = proxy(ctx, stack)
    ro = read_only_endpoint(ctx, stack)
    replica = read_replica(ctx, stack) if stack != ctx.plans.primary() else None
    if found is None and replica is not None:
        return hops + direct_to_replica(ctx, stack, pods, replica, "DB_ENDPOINT", f"{stack} app: read endpoint") + \
            _redis(ctx, stack, pods)
    if found is None:
        return hops + [blocked(f"{stack} proxy", "no RDS Proxy", stack)]
    # Reads go to the read-only endpoint; the primary may read on its writer (the proxy itself).
    allowed = [e for e in ([ro] if ro is not None else []) + ([found] if stack == ctx.plans.primary() else [])]
    used = pods.env.get("DB_ENDPOINT", "")
    target = next((e for e in allowed if str(e.get("endpoint", "")) == used), None)
    hop = f"{stack} app: read endpoint"
    if target is None:
        hops.append(blocked(hop, f"DB_ENDPOINT is {used or 'not set'}; the plan's read endpoints are "
                                 f"{[str(e.get('endpoint', '')) for e in allowed]}", pods.deployment.name
                            if pods.deployment else stack))
        target = allowed[0] if allowed else found
    else:
        hops.append(passed(hop, f"DB_ENDPOINT = {used} ({target.name})"))
    hops += ctx.network.connect(pods.endpoint, proxy_endpoint(target, f"{stack} proxy ({target.name})"), 5432,
                                f"{stack} app → proxy")
    hops.append(database_sign_in(ctx, stack, pods, found, role))
    hops += _proxy_to_database(ctx, stack, found)
    hops += _redis(ctx, stack, pods)
    return hops


def _proxy_to_database(ctx: Context, stack: str, found) -> list[Hop]:
    db = database(ctx, stack)
    if db is None:
        return [blocked(f"{stack} database", "no database declared", stack)]
    target = next((t for t in ctx.plans.of_type("aws:rds/proxyTarget:ProxyTarget", stack)
                   if t.get("dbProxyName") == found.get("name")), None)
    ident = db.get("clusterIdentifier") or db.get("identifier")
    if target is None or ident not in (target.get("dbClusterIdentifier"), target.get("dbInstanceIdentifier")):
        return [blocked(f"{stack} proxy → database: target", f"the proxy's target is not {ident}", found.name)]
    return [passed(f"{stack} proxy → database: target", f"default target group → {ident}", found.name)] + \
        ctx.network.connect(proxy_endpoint(found, f"{stack} proxy"), database_endpoint(ctx, db, f"{stack} database"),
                            5432, f"{stack} proxy → database")


def _redis(ctx: Context, stack: str, pods: Pods) -> list[Hop]:
    group = cache(ctx, stack)
    if group is None:
        return [blocked(f"{stack} Redis", "no replication group declared", stack)]
    hops = [_env(pods, "REDIS_CONFIGURATION_ENDPOINT", str(group.get("configurationEndpointAddress", "")),
                 f"{stack} app: Redis endpoint")]
    hops += ctx.network.connect(pods.endpoint, cache_endpoint(ctx, group, f"{stack} Redis"), int(group.get("port", 6379)),
                                f"{stack} app → Redis")
    return hops


def write(ctx: Context, stack: str) -> list[Hop]:
    """A user's write. The primary's app writes through its proxy; a secondary's app writes
    to the primary's writer across the peering (or through Aurora write forwarding when on)."""
    pods = ctx.pods(stack)
    primary = ctx.plans.primary()
    role, identity = app_role(ctx, stack, pods)
    hops = [service_reaches_pods(ctx.plans, pods, f"{stack} NLB → app pods"), identity]
    db = database(ctx, stack)
    found = proxy(ctx, stack)
    # A secondary writes past its own proxy (an rds-postgres secondary has none).
    if db is None or (found is None and stack == primary):
        return hops + [blocked(f"{stack} database", "no database or proxy declared", stack)]
    if stack == primary:
        hops.append(_env(pods, "DB_PROXY_ENDPOINT", str(found.get("endpoint", "")), f"{stack} app: write endpoint"))
        hops += ctx.network.connect(pods.endpoint, proxy_endpoint(found, f"{stack} proxy"), 5432, f"{stack} app → proxy")
        hops.append(database_sign_in(ctx, stack, pods, found, role))
        return hops + _proxy_to_database(ctx, stack, found)
    # A secondary writes to its own cluster when Aurora forwards its writes, else to the primary's.
    owner = stack if db.get("enableGlobalWriteForwarding") else primary
    if not ctx.plans.has(owner):
        return hops + [missing(f"{stack} app → {owner} writer", f"the plan of {owner} is not loaded", owner,
                               complete=False)]
    writer = database(ctx, owner)
    if writer is None:
        return hops + [blocked(f"{stack} app → {owner} writer", f"{owner} declares no database", owner)]
    how = "write forwarding" if owner == stack else "the primary's writer"
    hops.append(_env(pods, "DB_PRIMARY_WRITER_ENDPOINT", str(ctx.plans.outputs(owner).get("dbWriterEndpoint", "")),
                     f"{stack} app: write endpoint ({how})"))
    hops += ctx.network.connect(pods.endpoint, database_endpoint(ctx, writer, f"{owner} database"), 5432,
                                f"{stack} app → {owner} writer")
    hops.append(password_sign_in(ctx, stack, pods, f"{stack} app → {owner} writer: sign-in"))
    return hops


def static_assets(ctx: Context, stack: str) -> list[Hop]:
    """Static assets and uploads: the CDN serves them; uploads come from the private bucket
    through the distribution's own identity (origin access control)."""
    distribution = next(iter(ctx.plans.of_type("aws:cloudfront/distribution:Distribution", stack)), None)
    provider = ctx.plans.outputs(stack).get("cdnProvider", "")
    if distribution is None:
        return [passed(f"{stack} CDN ({provider})", f"{provider or 'the CDN'} serves static paths from the app "
                                                    "origin; no AWS-side bucket to read")]
    hops = []
    origins = {o.get("originId"): o for o in distribution.get("origins") or []}
    behaviours = [b for b in distribution.get("orderedCacheBehaviors") or [] if b.get("targetOriginId") in origins]
    uploads = [origins[b["targetOriginId"]] for b in behaviours if origins[b["targetOriginId"]].get("originAccessControlId")]
    if not uploads:
        return [blocked(f"{stack} CDN → uploads bucket", "no cache behaviour targets an origin with access control",
                        distribution.name)]
    origin = uploads[0]
    domain = str(origin.get("domainName", ""))
    bucket = next((b for b in ctx.plans.of_type("aws:s3/bucket:Bucket", stack)
                   if b.get("bucketRegionalDomainName") == domain or b.get("bucketDomainName") == domain), None)
    if bucket is None:
        return [blocked(f"{stack} CDN → uploads bucket", f"origin {domain} is no bucket of the plans", distribution.name)]
    hops.append(passed(f"{stack} CDN → uploads bucket: origin", f"{origin.get('originId')} → {bucket.name} (OAC)"))
    arn = f"arn:aws:s3:::{bucket.get('bucket')}/uploads/example.png"
    policy = ctx.identities.resource_policy(arn)
    hops.append(ctx.identities.service_may(
        f"{stack} CDN → uploads bucket: read", "cloudfront.amazonaws.com", "s3:GetObject", arn, policy,
        {"AWS:SourceArn": distribution.get("arn"), "aws:SecureTransport": "true"}))
    return hops


def cdn_origin(ctx: Context, stack: str) -> list[Hop]:
    """The CDN reaches its application origin over HTTPS, and the origin's name leads to NLBs."""
    distribution = next(iter(ctx.plans.of_type("aws:cloudfront/distribution:Distribution", stack)), None)
    if distribution is None:
        provider = ctx.plans.outputs(stack).get("cdnProvider", "")
        return [passed(f"{stack} CDN ({provider}) → origin", "origin served by the provider's own configuration")]
    terminals: set[str] = set()
    for other in ctx.plans.stacks:
        terminals |= load_balancer_names(ctx.plans, other)
    hops = []
    for origin in distribution.get("origins") or []:
        custom = origin.get("customOriginConfig")
        if not custom:
            continue
        name = f"{stack} CDN → origin {origin.get('originId')}"
        if custom.get("originProtocolPolicy") != "https-only" or int(custom.get("httpsPort", 0)) != 443:
            hops.append(blocked(name, "origin is not reached over HTTPS on 443", distribution.name))
            continue
        chain = ctx.dns.resolve(str(origin.get("domainName", "")), terminals)
        hops.append(passed(name, " → ".join(chain)) if chain
                    else blocked(name, f"{origin.get('domainName')} resolves to no load balancer", distribution.name))
    return hops or [blocked(f"{stack} CDN → origin", "the distribution has no application origin", distribution.name)]


def health_checks(ctx: Context, stack: str) -> list[Hop]:
    """Each Route53 health check of the stack probes the endpoint its records serve, on the
    path the pods' readiness probe answers."""
    pods = ctx.pods(stack)
    path = readiness_path(pods)
    hops = []
    checks = ctx.plans.of_type("aws:route53/healthCheck:HealthCheck", stack)
    if not checks:
        return [blocked(f"{stack} health checks", "the stack declares no health check", stack)]
    for check in checks:
        name = f"{stack} health check {check.get('fqdn')}"
        if check.get("type") != "HTTPS" or int(check.get("port", 0)) != 443:
            hops.append(blocked(name, "not an HTTPS check on 443", check.name))
            continue
        if check.get("resourcePath") != path:
            hops.append(blocked(name, f"probes {check.get('resourcePath')}, the pods answer {path}", check.name))
            continue
        hops.append(_dns_to_region(ctx, stack, str(check.get("fqdn")), name))
        served = [r for r in ctx.plans.of_type("aws:route53/record:Record") if r.get("healthCheckId") == check.resource.id]
        for record in served:
            targets = ctx.dns.targets(record)
            if str(check.get("fqdn")).lower() not in targets and not any(
                    ctx.dns.resolve(t, {str(check.get("fqdn")).lower()}) for t in targets):
                hops.append(blocked(f"{name}: record {record.name}",
                                    f"the record serves {targets}, not what the check probes", record.name))
    hops.append(service_reaches_pods(ctx.plans, pods, f"{stack} NLB → pods answering {path}"))
    return hops


