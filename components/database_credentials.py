"""The database's master credentials: generated, kept in Secrets Manager, replicated to
every region of the platform, rotated on a schedule.

RDS-managed master passwords (`manage_master_user_password`) are not available for
Aurora global database members or cross-region replicas, so the password is generated
here (pulumi-random, a secret in the state) and the secret is managed by the program.
Secrets Manager replicates it into each secondary region, encrypted there with that
region's key, so a secondary's connection pool and a promoted secondary find the
credentials locally. AWS's single-user PostgreSQL rotation function (from the
Serverless Application Repository) rotates it; it runs in the app subnets with the app
security group, which reaches the database and, through NAT, Secrets Manager.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

# RDS refuses '/', '@', '"' and spaces in a master password; JSON and URLs dislike a few more.
PASSWORD_SPECIALS = "!#$%&*()-_=+[]{}<>:?"
ROTATION_APPLICATION = ("arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
                        "SecretsManagerRDSPostgreSQLRotationSingleUser")


def secret_document(host: str, port: int, username: str, password: str, dbname: str) -> str:
    """The JSON the rotation function expects in the secret."""
    return json.dumps({"engine": "postgres", "host": host, "port": port, "username": username,
                       "password": password, "dbname": dbname})


@dataclass(frozen=True)
class DatabaseCredentialsArgs:
    """Inputs of `DatabaseCredentials`."""

    username: str
    """The master user."""
    database_name: str
    """The application database the secret names."""
    key_arn: pulumi.Input[str]
    """The home region's key; the secret is encrypted with it."""
    replica_key_arns: Mapping[str, pulumi.Input[str]]
    """Region -> that region's key, for each region the secret is replicated to."""
    secret_name_prefix: str
    """Start of the secret's name, e.g. `hse/production/us-east/db-master-`."""
    rotation_days: int
    """Days between rotations."""
    rotation_subnet_ids: Sequence[pulumi.Input[str]]
    """Where the rotation function runs (the app subnets: they reach the database and NAT)."""
    rotation_security_group_id: pulumi.Input[str]
    """The rotation function's security group (the app tier's)."""
    region: str
    """The home region, for the Secrets Manager endpoint the function calls."""
    rnd_provider: pulumi.ProviderResource
    """The pulumi-random provider."""
    function_name: str
    """Name of the rotation function, unique per environment and stack (Lambda names are per region)."""


class DatabaseCredentials(pulumi.ComponentResource):
    """The generated master password, its replicated secret and its rotation."""

    password: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DatabaseCredentialsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hse:data:DatabaseCredentials", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        password = random.RandomPassword(
            f"{name}-password",
            length=40,
            special=True,
            override_special=PASSWORD_SPECIALS,
            min_lower=2, min_upper=2, min_numeric=2, min_special=2,
            opts=pulumi.ResourceOptions(parent=self, provider=args.rnd_provider),
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name_prefix=args.secret_name_prefix,
            description="Master credentials of the HSE platform database (rotated; replicated to every region)",
            kms_key_id=args.key_arn,
            recovery_window_in_days=30,
            replicas=[aws.secretsmanager.SecretReplicaArgs(region=region, kms_key_id=key)
                      for region, key in sorted(args.replica_key_arns.items())],
            opts=child,
        )
        self.password = password.result
        self.secret_arn = secret.arn
        # A replica keeps the primary secret's name and suffix; only the region differs.
        self.secret_arns = {args.region: secret.arn, **{
            region: secret.arn.apply(lambda arn, r=region: arn.replace(f":{args.region}:", f":{r}:"))
            for region in args.replica_key_arns}}
        self._secret = secret
        self._args = args
        self._name = name
        self.register_outputs({"secretArn": self.secret_arn, "secretArns": self.secret_arns})

    def store(self, host: pulumi.Input[str], port: int,
              database_ready: Sequence[pulumi.Resource]) -> aws.secretsmanager.SecretVersion:
        """Write the credentials once the database's endpoint is known, then rotate them.

        The first rotation runs at once and connects to the database, so it waits for
        `database_ready` (the writer instance), not only for the cluster's endpoint.
        """
        args, name = self._args, self._name
        version = aws.secretsmanager.SecretVersion(
            f"{name}-value",
            secret_id=self._secret.id,
            secret_string=pulumi.Output.secret(pulumi.Output.all(host, self.password).apply(
                lambda v: secret_document(v[0], port, args.username, v[1], args.database_name))),
            # Rotation changes the value in AWS; the program must not write the old one back.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]),
        )
        function = aws.serverlessrepository.CloudFormationStack(
            f"{name}-rotation-fn",
            application_id=ROTATION_APPLICATION,
            capabilities=["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
            parameters={
                "functionName": args.function_name,
                "endpoint": f"https://secretsmanager.{args.region}.amazonaws.com",
                "vpcSubnetIds": pulumi.Output.all(*args.rotation_subnet_ids).apply(",".join),
                "vpcSecurityGroupIds": args.rotation_security_group_id,
                "kmsKeyArn": args.key_arn,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.secretsmanager.SecretRotation(
            f"{name}-rotation",
            secret_id=self._secret.id,
            rotation_lambda_arn=function.outputs.apply(lambda o: o["RotationLambdaARN"]),
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=args.rotation_days),
            # The first rotation must find the credentials in place and the database up.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[version, *database_ready]),
        )
        return version
