"""The admin VPN's certificates, made by the program so the spec's VPN exists without a
manual step: a private CA, a server certificate and one client certificate it signs, the
server certificate (with the CA as its chain) imported into ACM.

Client VPN mutual authentication needs the server certificate in ACM and a client root
chain; when both are issued by the same CA, the server certificate's ARN serves as the
client root chain too (Client VPN admin guide, "Mutual authentication"). RSA 2048 keys:
the key type the guide's certificates use and that ACM imports (ACM user guide,
"Prerequisites for importing certificates"). The private keys live in the Pulumi state
only as secrets; admins read the client certificate and key with
`pulumi stack output --show-secrets adminVpnClientKeyPem` (docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

VALIDITY_HOURS = 2 * 365 * 24
"""Two years; renewing is a `pulumi up` after `early_renewal_hours` is reached."""
EARLY_RENEWAL_HOURS = 30 * 24


@dataclass(frozen=True)
class AdminPkiArgs:
    """Inputs of `AdminPki`."""

    domain: str
    """The platform's domain: the server certificate's name is `vpn.<domain>`."""
    organization: str


class AdminPki(pulumi.ComponentResource):
    """CA, server and client certificates for the admin VPN; the server one in ACM."""

    server_certificate_arn: pulumi.Output[str]
    client_certificate_pem: pulumi.Output[str]
    client_key_pem: pulumi.Output[str]
    ca_certificate_pem: pulumi.Output[str]

    def __init__(self, name: str, args: AdminPkiArgs, tls_provider: tls.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:security:AdminPki", name, None, opts)
        own = pulumi.ResourceOptions(parent=self, provider=tls_provider)
        aws_child = pulumi.ResourceOptions(parent=self)
        subject = lambda common_name: {"common_name": common_name, "organization": args.organization}  # noqa: E731

        ca_key = tls.PrivateKey(f"{name}-ca-key", algorithm="RSA", rsa_bits=2048, opts=own)
        ca = tls.SelfSignedCert(f"{name}-ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
                                subject=subject(f"{args.organization} admin VPN CA"),
                                validity_period_hours=VALIDITY_HOURS, early_renewal_hours=EARLY_RENEWAL_HOURS,
                                allowed_uses=["cert_signing", "crl_signing", "digital_signature"], opts=own)

        def signed(role: str, common_name: str, uses: list[str]) -> tuple[tls.PrivateKey, tls.LocallySignedCert]:
            key = tls.PrivateKey(f"{name}-{role}-key", algorithm="RSA", rsa_bits=2048, opts=own)
            request = tls.CertRequest(f"{name}-{role}-request", private_key_pem=key.private_key_pem,
                                      subject=subject(common_name), dns_names=[common_name], opts=own)
            cert = tls.LocallySignedCert(f"{name}-{role}", cert_request_pem=request.cert_request_pem,
                                         ca_private_key_pem=ca_key.private_key_pem, ca_cert_pem=ca.cert_pem,
                                         validity_period_hours=VALIDITY_HOURS,
                                         early_renewal_hours=EARLY_RENEWAL_HOURS,
                                         allowed_uses=["digital_signature", "key_encipherment", *uses], opts=own)
            return key, cert

        server_key, server = signed("server", f"vpn.{args.domain}", ["server_auth"])
        client_key, client = signed("client", f"admin.vpn.{args.domain}", ["client_auth"])
        imported = aws.acm.Certificate(f"{name}-server", private_key=server_key.private_key_pem,
                                       certificate_body=server.cert_pem, certificate_chain=ca.cert_pem,
                                       opts=aws_child)
        self.server_certificate_arn = imported.arn
        self.ca_certificate_pem = ca.cert_pem
        self.client_certificate_pem = client.cert_pem
        self.client_key_pem = pulumi.Output.secret(client_key.private_key_pem)
        self.register_outputs({"serverCertificateArn": self.server_certificate_arn,
                               "caCertificatePem": self.ca_certificate_pem})
