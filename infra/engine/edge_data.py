"""What the offline cloud answers for the edge: Route53, ACM, S3, CloudFront and WAF,
and the attributes the Fastly and Cloudflare providers compute that the program reads.

Formats follow the services': hosted zone ids `Z...`, CloudFront ids `E...` and
`d....cloudfront.net` domains, ACM validation records, S3 domain names per region.
"""

from __future__ import annotations

import uuid

from infra.engine.aws_data import Answer, Context

CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
"""The hosted zone of every CloudFront domain (alias records name it)."""
def _upper(c: Context, length: int, offset: int = 0) -> str:
    return c.digest[offset:offset + length].upper()


def _zone(c: Context) -> str:
    zone_id = f"Z{_upper(c, 20)}"
    c.outputs.update(zoneId=zone_id, arn=f"arn:aws:route53:::hostedzone/{zone_id}",
                     nameServers=[f"ns-{int(c.digest[i:i + 3], 16) % 2048}.awsdns-{i:02d}.{tld}"
                                  for i, tld in ((0, "com"), (3, "net"), (6, "org"), (9, "co.uk"))])
    return zone_id


def _health_check(c: Context) -> str:
    check_id = str(uuid.UUID(c.digest[:32]))
    c.outputs["arn"] = f"arn:aws:route53:::healthcheck/{check_id}"
    return check_id


def _record(c: Context) -> str:
    name = str(c.get("name")).rstrip(".").lower()
    c.outputs["fqdn"] = name
    parts = [str(c.get("zoneId")), name, str(c.get("type"))]
    if c.get("setIdentifier"):
        parts.append(str(c.get("setIdentifier")))
    return "_".join(parts)


def _certificate(c: Context) -> str:
    arn = c.arn("acm", f"certificate/{uuid.UUID(c.digest[:32])}")
    domain = str(c.get("domainName"))
    c.outputs.update(arn=arn, status="PENDING_VALIDATION", domainValidationOptions=[{
        "domainName": domain, "resourceRecordName": f"_{c.digest[:32]}.{domain}.", "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{c.digest[32:64]}.acm-validations.aws."}])
    return arn


def _bucket(c: Context) -> str:
    name = str(c.get("bucket"))
    c.outputs.update(arn=f"arn:aws:s3:::{name}", bucketDomainName=f"{name}.s3.amazonaws.com",
                     bucketRegionalDomainName=f"{name}.s3.{c.region}.amazonaws.com", bucketRegion=c.region)
    return name


def _distribution(c: Context) -> str:
    dist_id = f"E{_upper(c, 13)}"
    c.outputs.update(arn=f"arn:aws:cloudfront::{c.account}:distribution/{dist_id}",
                     domainName=f"d{c.digest[13:26]}.cloudfront.net", hostedZoneId=CLOUDFRONT_ZONE_ID,
                     status="Deployed", etag=_upper(c, 14, 26))
    return dist_id


def _cloudfront_function(c: Context) -> str:
    name = str(c.get("name"))
    c.outputs.update(arn=f"arn:aws:cloudfront::{c.account}:function/{name}", etag=_upper(c, 14),
                     liveStageEtag=_upper(c, 14), status="UNASSOCIATED")
    return name


def _policy(c: Context) -> str:
    c.outputs["etag"] = _upper(c, 14, 32)
    return str(uuid.UUID(c.digest[:32]))


def _web_acl(c: Context) -> str:
    acl_id = str(uuid.UUID(c.digest[:32]))
    scope = "global" if c.get("scope") == "CLOUDFRONT" else "regional"
    c.outputs.update(arn=c.arn("wafv2", f"{scope}/webacl/{c.get('name')}/{acl_id}"), capacity=1000,
                     lockToken=str(uuid.UUID(c.digest[32:64])))
    return acl_id


_BUCKET_PARTS = ("bucketPublicAccessBlock:BucketPublicAccessBlock", "bucketOwnershipControls:BucketOwnershipControls",
                 "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                 "bucketVersioning:BucketVersioning", "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                 "bucketPolicy:BucketPolicy")

ANSWERS: dict[str, Answer] = {
    "aws:route53/zone:Zone": _zone,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:route53/record:Record": _record,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:acm/certificateValidation:CertificateValidation": lambda c: str(c.get("certificateArn")),
    "aws:s3/bucket:Bucket": _bucket,
    **{f"aws:s3/{part}": (lambda c: str(c.get("bucket"))) for part in _BUCKET_PARTS},
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/originAccessControl:OriginAccessControl": lambda c: f"E{_upper(c, 13)}",
    "aws:cloudfront/cachePolicy:CachePolicy": _policy,
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": _policy,
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _policy,
    "aws:cloudfront/function:Function": _cloudfront_function,
    "aws:cloudfront/monitoringSubscription:MonitoringSubscription": lambda c: str(c.get("distributionId")),
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:route53/keySigningKey:KeySigningKey": lambda c: f"{c.get('hostedZoneId')},{c.get('name')}",
    "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec": lambda c: str(c.get("hostedZoneId")),
}


def _tls_subscription(c: Context) -> str:
    domain = str(c.get("domains")[0])
    c.outputs.update(
        managedDnsChallenges=[{"recordName": f"_acme-challenge.{domain}", "recordType": "CNAME",
                               "recordValue": f"{c.digest[:20]}.fastly-validations.com"}],
        managedHttpChallenges=[{"recordName": domain, "recordType": "CNAME", "recordValues": ["t.sni.global.fastly.net"]},
                               {"recordName": domain, "recordType": "A",
                                "recordValues": ["151.101.2.133", "151.101.66.133"]}],
        certificateId=c.digest[:22])
    return c.digest[:22]


OTHER_ANSWERS: dict[str, Answer] = {
    "fastly:index/tlsSubscription:TlsSubscription": _tls_subscription,
}
"""Non-AWS resources whose computed attributes the program reads."""
