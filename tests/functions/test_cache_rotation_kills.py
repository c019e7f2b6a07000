"""The rotation function's refusals and waits that a mutation pass found untested, each
both ways: Secrets Manager on moto, ElastiCache's user API as a double (moto has no
ModifyUser)."""

from __future__ import annotations

import json

import pytest

from functions.cache_rotation.handler import RotationError, rotate
from tests.functions.conftest import USER_ARN, Users

def run(client, arn, users, step, token, user_name="tenant-acme", clock=None):
    return rotate({"Step": step, "SecretId": arn, "ClientRequestToken": token}, secrets=client, elasticache=users,
                  secret_arn=arn, user_name=user_name, sleep=lambda s: None,
                  **({"clock": clock} if clock else {}))


def stage_pending_without_value(client, token):
    """What RotateSecret does before createSecret: the new version id is staged AWSPENDING."""
    real = client.describe_secret

    def describe(SecretId):
        data = real(SecretId=SecretId)
        data["VersionIdsToStages"] = {**data["VersionIdsToStages"], token: ["AWSPENDING"]}
        return data
    client.describe_secret = describe


def put_pending(client, arn, token, value):
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(value),
                            VersionStages=["AWSPENDING"])


def test_a_version_neither_pending_nor_current_is_refused(secret):
    client, arn = secret
    token = "p" * 32
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps({"username": "x"}),
                            VersionStages=["AWSPREVIOUS"])
    with pytest.raises(RotationError, match=f"version {token} of .* is not pending rotation"):
        run(client, arn, Users(), "createSecret", token)
    other = "q" * 32
    stage_pending_without_value(client, other)
    assert run(client, arn, Users(), "createSecret", other) == "createSecret"


def test_create_refuses_a_secret_that_holds_another_user(secret):
    client, arn = secret
    token = "g" * 32
    stage_pending_without_value(client, token)
    with pytest.raises(RotationError, match="holds user 'tenant-acme', this function rotates 'tenant-globex'"):
        run(client, arn, Users(), "createSecret", token, user_name="tenant-globex")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")
    assert run(client, arn, Users(), "createSecret", token, user_name="tenant-acme") == "createSecret"


def test_new_passwords_are_40_characters_without_punctuation(secret):
    """ElastiCache passwords are 16 to 128 printable characters without @, \" or / (ElastiCache
    user guide, "Authenticating with the Valkey and Redis OSS AUTH command"): letters and
    digits only keep every generated one valid."""
    client, arn = secret
    token = "r" * 32
    stage_pending_without_value(client, token)
    calls = []
    real = client.get_random_password
    client.get_random_password = lambda **kwargs: calls.append(kwargs) or real(**kwargs)
    run(client, arn, Users(), "createSecret", token)
    assert calls == [{"PasswordLength": 40, "ExcludePunctuation": True}]
    pending = json.loads(client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
    assert pending["password"].isalnum() and len(pending["password"]) == 40


def test_set_needs_the_user_arn_in_the_pending_value(secret):
    client, arn = secret
    put_pending(client, arn, "s" * 32, {"username": "tenant-acme", "password": "new"})
    users = Users()
    with pytest.raises(RotationError, match="does not name user 'tenant-acme' with its user_arn"):
        run(client, arn, users, "setSecret", "s" * 32)
    assert users.modified == []
    put_pending(client, arn, "t" * 32, {"username": "tenant-acme", "password": "new", "user_arn": USER_ARN})
    assert run(client, arn, users, "setSecret", "t" * 32) == "setSecret"
    assert users.modified == [("prod-eu-west-acme", ["new"])]


@pytest.mark.parametrize("second_read_at,gives_up", [(120, True), (119, False)])
def test_set_gives_up_exactly_at_the_deadline(secret, second_read_at, gives_up):
    client, arn = secret
    token = "u" * 32
    put_pending(client, arn, token, {"username": "tenant-acme", "password": "new", "user_arn": USER_ARN})
    ticks = iter([0, second_read_at, 10_000])
    users = Users(busy=1)  # modifying on the first read, active on the second
    if gives_up:
        with pytest.raises(RotationError, match="user prod-eu-west-acme is not active 120 s after ModifyUser"):
            run(client, arn, users, "setSecret", token, clock=lambda: next(ticks))
    else:
        assert run(client, arn, users, "setSecret", token, clock=lambda: next(ticks)) == "setSecret"


@pytest.mark.parametrize("users,passes", [(Users(busy=1), False), (Users(exists=False), False), (Users(), True)])
def test_test_secret_needs_the_user_active(secret, users, passes):
    client, arn = secret
    token = "v" * 32
    put_pending(client, arn, token, {"username": "tenant-acme", "password": "new", "user_arn": USER_ARN})
    if passes:
        assert run(client, arn, users, "testSecret", token) == "testSecret"
    else:
        with pytest.raises(RotationError, match="user prod-eu-west-acme is not active$"):
            run(client, arn, users, "testSecret", token)


def test_set_waits_for_a_missing_user_until_the_deadline(secret):
    client, arn = secret
    token = "w" * 32
    put_pending(client, arn, token, {"username": "tenant-acme", "password": "new", "user_arn": USER_ARN})
    ticks = iter(range(0, 1000, 50))
    with pytest.raises(RotationError, match="not active 120 s after ModifyUser"):
        run(client, arn, Users(exists=False), "setSecret", token, clock=lambda: next(ticks))
