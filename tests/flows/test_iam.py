"""The IAM evaluator against AWS's documented evaluation logic, both sides of each rule."""

from __future__ import annotations

import json

import pytest

from infra.flows.iam import Policy, Request, evaluate, glob_match

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/state"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def decide(statements, action="dynamodb:GetItem", resource=TABLE, context=None, resource_policy=None):
    return evaluate(Request(ROLE, action, resource, context or {}),
                    identity=[Policy("identity", doc(*statements))],
                    resource=Policy("resource", resource_policy) if resource_policy else None)


def test_an_allow_for_the_action_and_resource_allows():
    assert decide([allow("dynamodb:GetItem", TABLE)]).allowed


def test_nothing_allows_by_default():
    result = decide([allow("dynamodb:PutItem", TABLE)])
    assert not result.allowed and "no statement allows dynamodb:GetItem" in result.reason


def test_explicit_deny_wins_over_an_allow():
    result = decide([allow("dynamodb:*", "*"), {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": TABLE}])
    assert not result.allowed and "explicitly denied" in result.reason


def test_actions_match_case_insensitively_with_wildcards_resources_case_sensitively():
    assert decide([allow("DynamoDB:Get*", TABLE)]).allowed
    assert not decide([allow("dynamodb:GetItem", TABLE.upper())]).allowed
    assert decide([allow("dynamodb:GetItem", "arn:aws:dynamodb:*:111122223333:table/stat?")]).allowed
    assert not decide([allow("dynamodb:GetItem", "arn:aws:dynamodb:*:111122223333:table/sta?")]).allowed


def test_not_action_and_not_resource():
    assert not decide([{"Effect": "Allow", "NotAction": "dynamodb:GetItem", "Resource": "*"}]).allowed
    assert decide([{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]).allowed
    assert not decide([{"Effect": "Allow", "Action": "*", "NotResource": TABLE}]).allowed


@pytest.mark.parametrize("condition,context,expected", [
    ({"StringEquals": {"cloudwatch:namespace": "HSE/App"}}, {"cloudwatch:namespace": "HSE/App"}, True),
    ({"StringEquals": {"cloudwatch:namespace": "HSE/App"}}, {"cloudwatch:namespace": "HSE/Other"}, False),
    ({"StringEquals": {"cloudwatch:namespace": "HSE/App"}}, {}, False),
    ({"StringEquals": {"CloudWatch:Namespace": "HSE/App"}}, {"cloudwatch:namespace": "HSE/App"}, True),
    ({"StringLike": {"k": "system:serviceaccount:hse:*"}}, {"k": "system:serviceaccount:hse:app"}, True),
    ({"StringLike": {"k": "system:serviceaccount:hse:*"}}, {"k": "system:serviceaccount:kube-system:x"}, False),
    ({"StringNotEquals": {"k": "a"}}, {}, True),
    ({"StringNotEquals": {"k": "a"}}, {"k": "a"}, False),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:111122223333:rule/hse-*"}},
     {"aws:SourceArn": "arn:aws:events:eu-west-1:111122223333:rule/hse-x"}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:111122223333:rule/hse-*"}},
     {"aws:SourceArn": "arn:aws:events:eu-west-1:444455556666:rule/hse-x"}, False),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, False),
    ({"Null": {"k": "true"}}, {}, True),
    ({"Null": {"k": "true"}}, {"k": "v"}, False),
    ({"StringEqualsIfExists": {"k": "a"}}, {}, True),
    ({"StringEqualsIfExists": {"k": "a"}}, {"k": "b"}, False),
    ({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"}, True),
    ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a", "c"]}, False),
    ({"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, {"k": ["c", "a"]}, True),
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-01-01T00:00:00Z"}, False),
])
def test_conditions(condition, context, expected):
    assert decide([allow("dynamodb:GetItem", TABLE, Condition=condition)], context=context).allowed is expected


def test_an_unmodelled_operator_never_grants_and_says_so():
    result = decide([allow("dynamodb:GetItem", TABLE, Condition={"DateLessThan": {"aws:CurrentTime": "x"}})],
                    context={"aws:CurrentTime": "y"})
    assert not result.allowed and "not modelled" in result.reason


def test_a_resource_policy_allows_the_principal_it_names_only():
    bucket = "arn:aws:s3:::uploads/a.png"
    named = doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": bucket})
    other = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"},
                 "Action": "s3:GetObject", "Resource": bucket})
    assert decide([], "s3:GetObject", bucket, resource_policy=named).allowed
    assert not decide([], "s3:GetObject", bucket, resource_policy=other).allowed


def test_a_service_principal_is_not_an_aws_principal():
    bucket = "arn:aws:s3:::uploads/a.png"
    policy = Policy("bucket", doc({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                                   "Action": "s3:GetObject", "Resource": bucket}))
    service = Request("cloudfront.amazonaws.com", "s3:GetObject", bucket, {}, service_principal=True)
    impostor = Request("cloudfront.amazonaws.com", "s3:GetObject", bucket, {})
    assert evaluate(service, identity=[], resource=policy).allowed
    assert not evaluate(impostor, identity=[], resource=policy).allowed


KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/mrk-1"
ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}


def kms(key_statements, identity_statements):
    return evaluate(Request(ROLE, "kms:Decrypt", KEY, {}), identity=[Policy("identity", doc(*identity_statements))],
                    resource=Policy("key", doc(*key_statements)), kms_key=True, account=ACCOUNT)


def test_kms_needs_the_key_policy_directly_or_its_delegation_to_iam():
    grant = allow("kms:Decrypt", KEY)
    assert kms([ROOT], [grant]).allowed
    assert not kms([ROOT], []).allowed
    # Without the account statement an IAM allow is not enough.
    assert not kms([{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*",
                     "Resource": "*"}], [grant]).allowed
    assert kms([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}], []).allowed


def test_glob():
    assert glob_match("a*c", "abbbc") and glob_match("a?c", "abc") and not glob_match("a?c", "abbc")
    assert glob_match("a.c", "a.c") and not glob_match("a.c", "abc")
