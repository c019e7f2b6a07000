"""Rotates the password of one ElastiCache user, the one tenant's secret names.

Secrets Manager calls a rotation function four times per rotation (Secrets Manager user
guide, "Rotation function steps"): createSecret (a new AWSPENDING version with a fresh
password), setSecret (ElastiCache ModifyUser with that password, then wait until the user
is `active` again), testSecret (the user is active and the pending value reads back), and
finishSecret (AWSCURRENT moves to the new version). Each deployed function serves exactly
one secret and one user, given by its environment (`SECRET_ARN`, `USER_NAME`): it refuses
any other secret, so a shared function can never rotate the wrong tenant.

Standard library and boto3 only (the Lambda runtime ships boto3).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

PENDING, CURRENT = "AWSPENDING", "AWSCURRENT"
WAIT_SECONDS = 120
"""How long setSecret waits for the user to be `active` again (ModifyUser is asynchronous)."""


class RotationError(Exception):
    """The rotation cannot go on; Secrets Manager retries the step later."""


def rotate(event: dict[str, Any], *, secrets: Any, elasticache: Any, secret_arn: str, user_name: str,
           sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> str:
    """Run one step of the rotation; returns the step done."""
    step, arn, token = event.get("Step"), event.get("SecretId"), event.get("ClientRequestToken")
    if arn != secret_arn:
        raise RotationError(f"this function rotates {secret_arn} only, not {arn}")
    stages = secrets.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError(f"version {token} is not a version of {arn}")
    if CURRENT in stages[token]:
        return "already current"
    if PENDING not in stages[token]:
        raise RotationError(f"version {token} of {arn} is not pending rotation")
    if step == "createSecret":
        _create(secrets, arn, token, user_name)
    elif step == "setSecret":
        _set(secrets, elasticache, arn, token, user_name, sleep, clock)
    elif step == "testSecret":
        _test(secrets, elasticache, arn, token, user_name)
    elif step == "finishSecret":
        _finish(secrets, arn, token, stages)
    else:
        raise RotationError(f"unknown step {step!r}")
    return step


def _value(secrets: Any, arn: str, **version: str) -> dict[str, Any]:
    return json.loads(secrets.get_secret_value(SecretId=arn, **version)["SecretString"])


def _create(secrets: Any, arn: str, token: str, user_name: str) -> None:
    try:
        secrets.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
        return  # a retried step: the pending value exists already
    except secrets.exceptions.ResourceNotFoundException:
        pass
    current = _value(secrets, arn, VersionStage=CURRENT)
    if current.get("username") != user_name:
        raise RotationError(f"{arn} holds user {current.get('username')!r}, this function rotates {user_name!r}")
    password = secrets.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
    secrets.put_secret_value(SecretId=arn, ClientRequestToken=token, VersionStages=[PENDING],
                             SecretString=json.dumps({**current, "password": password}))


def _user_id(pending: dict[str, Any], user_name: str) -> str:
    if pending.get("username") != user_name or not pending.get("user_arn"):
        raise RotationError(f"the pending value does not name user {user_name!r} with its user_arn")
    return str(pending["user_arn"]).rsplit(":", 1)[-1]


def _set(secrets: Any, elasticache: Any, arn: str, token: str, user_name: str,
         sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
    pending = _value(secrets, arn, VersionId=token, VersionStage=PENDING)
    user_id = _user_id(pending, user_name)
    elasticache.modify_user(UserId=user_id, AuthenticationMode={"Type": "password", "Passwords": [pending["password"]]})
    deadline = clock() + WAIT_SECONDS
    while _status(elasticache, user_id) != "active":
        if clock() >= deadline:
            raise RotationError(f"user {user_id} is not active {WAIT_SECONDS} s after ModifyUser")
        sleep(5)


def _status(elasticache: Any, user_id: str) -> str:
    users = elasticache.describe_users(UserId=user_id).get("Users", [])
    return str(users[0].get("Status")) if users else "missing"


def _test(secrets: Any, elasticache: Any, arn: str, token: str, user_name: str) -> None:
    pending = _value(secrets, arn, VersionId=token, VersionStage=PENDING)
    user_id = _user_id(pending, user_name)
    if _status(elasticache, user_id) != "active":
        raise RotationError(f"user {user_id} is not active")


def _finish(secrets: Any, arn: str, token: str, stages: dict[str, list[str]]) -> None:
    current = next((version for version, names in stages.items() if CURRENT in names), None)
    secrets.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token,
                                        **({"RemoveFromVersionId": current} if current else {}))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:  # pragma: no cover - AWS entry point
    import boto3

    step = rotate(event, secrets=boto3.client("secretsmanager"), elasticache=boto3.client("elasticache"),
                  secret_arn=os.environ["SECRET_ARN"], user_name=os.environ["USER_NAME"])
    return {"step": step}
