"""One tenant's rotation function, step by step, against Secrets Manager on moto and an
ElastiCache double (moto has no ModifyUser)."""

from __future__ import annotations

import json

import pytest

from functions.cache_rotation.handler import RotationError, rotate
from tests.functions.conftest import USER_ARN, Users

def run(client, arn, users, step, token, **kwargs):
    return rotate({"Step": step, "SecretId": arn, "ClientRequestToken": token}, secrets=client, elasticache=users,
                  secret_arn=kwargs.pop("secret_arn", arn), user_name=kwargs.pop("user_name", "tenant-acme"),
                  sleep=lambda s: None, **kwargs)


def test_a_retried_create_keeps_the_pending_value(secret):
    client, arn = secret
    token = "a" * 32
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps({"kept": 1}),
                            VersionStages=["AWSPENDING"])
    assert run(client, arn, Users(), "createSecret", token) == "createSecret"
    assert json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"]) == {"kept": 1}


def test_create_set_test_finish(secret):
    client, arn = secret
    users = Users(busy=2)
    token = "c" * 32
    # What RotateSecret does before calling createSecret: a version id staged AWSPENDING, no value yet.
    stages = {token: ["AWSPENDING"]}
    real_describe = client.describe_secret

    def describe(SecretId):
        data = real_describe(SecretId=SecretId)
        data["VersionIdsToStages"] = {**data["VersionIdsToStages"], **stages}
        return data
    client.describe_secret = describe
    assert run(client, arn, users, "createSecret", token) == "createSecret"
    pending = json.loads(client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
    assert pending["username"] == "tenant-acme" and pending["user_arn"] == USER_ARN
    assert pending["password"] != "old" and len(pending["password"]) == 40
    assert run(client, arn, users, "setSecret", token) == "setSecret"
    assert users.modified == [("prod-eu-west-acme", [pending["password"]])] and users.busy == 0
    assert run(client, arn, users, "testSecret", token) == "testSecret"
    client.describe_secret = real_describe
    assert run(client, arn, users, "finishSecret", token) == "finishSecret"
    current = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    assert current["password"] == pending["password"]
    assert run(client, arn, users, "finishSecret", token) == "already current"


def test_another_secret_is_refused_before_anything_is_read(secret):
    client, arn = secret
    with pytest.raises(RotationError, match="rotates .* only"):
        run(client, arn + "-other", Users(), "createSecret", "t", secret_arn=arn)


def test_a_secret_of_another_user_is_refused(secret):
    client, arn = secret
    token = "d" * 32
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(
        {"username": "tenant-globex", "password": "p", "user_arn": USER_ARN}), VersionStages=["AWSPENDING"])
    with pytest.raises(RotationError, match="does not name user 'tenant-acme'"):
        run(client, arn, Users(), "setSecret", token)


def test_set_secret_gives_up_when_the_user_stays_modifying(secret):
    client, arn = secret
    token = "e" * 32
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(
        {"username": "tenant-acme", "password": "new", "user_arn": USER_ARN}), VersionStages=["AWSPENDING"])
    ticks = iter(range(0, 1000, 50))
    with pytest.raises(RotationError, match="not active 120 s after ModifyUser"):
        run(client, arn, Users(busy=100), "setSecret", token, clock=lambda: next(ticks))


def test_an_unknown_token_and_a_token_not_pending_are_refused(secret):
    client, arn = secret
    with pytest.raises(RotationError, match="is not a version"):
        run(client, arn, Users(), "createSecret", "nope")
    current = next(v for v, s in client.describe_secret(SecretId=arn)["VersionIdsToStages"].items() if "AWSCURRENT" in s)
    assert run(client, arn, Users(), "setSecret", current) == "already current"
