"""One tenant's secret on moto's Secrets Manager, and ElastiCache's user API as a double
(moto has no ModifyUser), shared by the rotation function's tests."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

USER_ARN = "arn:aws:elasticache:eu-west-1:123456789012:user:prod-eu-west-acme"


class Users:
    """One ElastiCache user: `modifying` for `busy` reads after a change, or absent."""

    def __init__(self, busy: int = 0, exists: bool = True):
        self.busy, self.exists = busy, exists
        self.modified: list[tuple[str, list[str]]] = []

    @property
    def passwords(self) -> list[str]:
        """The passwords of the last ModifyUser ([] before any)."""
        return self.modified[-1][1] if self.modified else []

    def modify_user(self, UserId, AuthenticationMode):
        assert AuthenticationMode["Type"] == "password"
        self.modified.append((UserId, AuthenticationMode["Passwords"]))

    def describe_users(self, UserId):
        if not self.exists:
            return {"Users": []}
        if self.busy:
            self.busy -= 1
            return {"Users": [{"UserId": UserId, "Status": "modifying"}]}
        return {"Users": [{"UserId": UserId, "Status": "active"}]}


@pytest.fixture
def secret():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = client.create_secret(Name="hse/prod/eu-west/cache/acme", SecretString=json.dumps(
            {"username": "tenant-acme", "password": "old", "user_arn": USER_ARN, "keyPrefix": "tenant:acme:"}))["ARN"]
        yield client, arn
