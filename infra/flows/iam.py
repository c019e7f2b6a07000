"""A small IAM evaluator for the policy documents the program writes.

It follows AWS's documented evaluation logic for a principal and a resource in the same
account (IAM user guide, "Policy evaluation logic" and "Determining whether a request is
allowed or denied within an account"): an explicit Deny in any applicable policy wins;
otherwise an Allow in the principal's identity policies or in the resource's policy
allows, except for KMS, whose key policy must allow the request itself or delegate to
IAM through the account principal (KMS developer guide, "Key policies in AWS KMS").

Supported: Action/NotAction, Resource/NotResource, Principal (AWS, Service, Federated,
"*"), wildcards `*` and `?` (actions case-insensitive), and the condition operators the
program uses: String{Equals,NotEquals,Like,NotLike}, Arn{Equals,Like,NotEquals,NotLike},
Bool, Null, the `...IfExists` suffix and the ForAnyValue/ForAllValues set prefixes. An
operator it does not know never grants: the statement is reported as not applying.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional, Union

Document = Union[str, dict[str, Any]]


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def glob_match(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_pattern(glob, ignore_case).match(value))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse(document: Optional[Document]) -> list[dict[str, Any]]:
    """The statements of a policy document given as JSON text or a dict."""
    if not document:
        return []
    data = json.loads(document) if isinstance(document, str) else document
    return [s for s in _list(data.get("Statement")) if isinstance(s, dict)]


@dataclass(frozen=True)
class Request:
    """One API call: who, what, on which resource, with which request context."""

    principal: str
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    service_principal: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


@dataclass(frozen=True)
class Policy:
    """A policy document and where it comes from (for messages)."""

    source: str
    document: Optional[Document]


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for kind, values in principal.items():
        for value in _list(values):
            if value == "*":
                return True
            if kind == "Service" and request.service_principal and value == request.principal:
                return True
            if kind == "Federated" and value == request.principal:
                return True
            if kind == "AWS" and not request.service_principal and value == request.principal:
                return True
    return False


def _account_root(principal: Any, account: str) -> bool:
    if not isinstance(principal, dict):
        return False
    roots = {f"arn:aws:iam::{account}:root", account}
    return any(v in roots for v in _list(principal.get("AWS")))


def _condition(block: dict[str, Any], context: dict[str, Any]) -> tuple[bool, str]:
    for operator, tests in block.items():
        for key, expected in tests.items():
            ok = _test(operator, key, _list(expected), context)
            if ok is None:
                return False, f"condition operator {operator} is not modelled"
            if not ok:
                return False, f"condition {operator} {key} = {expected!r} does not hold " \
                              f"(request has {context.get(key, 'no value')!r})"
    return True, ""


def _test(operator: str, key: str, expected: list[Any], context: dict[str, Any]) -> Optional[bool]:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    # Condition keys are case-insensitive (IAM reference, "IAM JSON policy elements: Condition").
    key = next((k for k in context if k.lower() == key.lower()), key)
    present = key in context
    if base == "Null":
        return (not present) == (str(expected[0]).lower() == "true")
    if not present:
        # Negated operators hold for a missing key; so does anything ...IfExists.
        return if_exists or base in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike")
    values = [str(v) for v in _list(context[key])]
    matchers = {
        "StringEquals": lambda v, e: v == e,
        "StringEqualsIgnoreCase": lambda v, e: v.lower() == e.lower(),
        "StringLike": lambda v, e: glob_match(e, v),
        "ArnEquals": lambda v, e: glob_match(e, v),
        "ArnLike": lambda v, e: glob_match(e, v),
        "Bool": lambda v, e: v.lower() == e.lower(),
    }
    negated = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike",
               "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}
    positive = negated.get(base, base)
    match = matchers.get(positive)
    if match is None:
        return None
    hits = [any(match(v, str(e)) for e in expected) for v in values]
    result = all(hits) if qualifier == "ForAllValues" else any(hits)
    return not result if base in negated else result


def _applies(statement: dict[str, Any], request: Request, *, resource_policy: bool) -> tuple[bool, str]:
    actions, not_actions = _list(statement.get("Action")), _list(statement.get("NotAction"))
    if actions and not any(glob_match(a, request.action, ignore_case=True) for a in actions):
        return False, "action not listed"
    if not_actions and any(glob_match(a, request.action, ignore_case=True) for a in not_actions):
        return False, "action excluded by NotAction"
    resources, not_resources = _list(statement.get("Resource")), _list(statement.get("NotResource"))
    if resources and not any(glob_match(r, request.resource) for r in resources):
        return False, "resource not listed"
    if not_resources and any(glob_match(r, request.resource) for r in not_resources):
        return False, "resource excluded by NotResource"
    if resource_policy and not _principal_matches(statement.get("Principal"), request):
        return False, "principal not named"
    return _condition(statement.get("Condition") or {}, request.context)


def _scan(policies: list[Policy], request: Request, *, resource_policy: bool) -> tuple[list[str], list[str], list[str]]:
    """(allowing statements, denying statements, reasons the nearest misses did not apply)."""
    allows: list[str] = []
    denies: list[str] = []
    misses: list[tuple[int, str]] = []
    for policy in policies:
        for index, statement in enumerate(parse(policy.document)):
            where = f"{policy.source} statement {statement.get('Sid') or index}"
            ok, why = _applies(statement, request, resource_policy=resource_policy)
            if ok:
                (denies if statement.get("Effect") == "Deny" else allows).append(where)
            elif why.startswith("condition") and statement.get("Effect") != "Deny":
                # The nearest miss is a statement that names this caller, before one for anyone.
                named = request.principal in json.dumps(statement.get("Principal", ""))
                misses.append((0 if named else 1, f"{where}: {why}"))
    return allows, denies, [text for _, text in sorted(misses, key=lambda m: m[0])]


def evaluate(request: Request, *, identity: list[Policy], resource: Optional[Policy] = None,
             kms_key: bool = False, account: str = "") -> Decision:
    """Whether `request` is allowed, and which statement allows or denies it (or why none does)."""
    id_allow, id_deny, id_miss = _scan(identity, request, resource_policy=False)
    res = [resource] if resource is not None else []
    res_allow, res_deny, res_miss = _scan(res, request, resource_policy=True)
    if id_deny or res_deny:
        return Decision(False, f"explicitly denied by {(id_deny + res_deny)[0]}")
    if kms_key:
        if res_allow:
            return Decision(True, f"allowed by {res_allow[0]}")
        delegated = any(_account_root(s.get("Principal"), account) and s.get("Effect") == "Allow"
                        and _applies({**s, "Principal": "*"}, request, resource_policy=True)[0]
                        for s in parse(resource.document if resource else None))
        if delegated and id_allow:
            return Decision(True, f"allowed by {id_allow[0]} (the key policy delegates to IAM)")
        miss = (res_miss + id_miss)[:1]
        return Decision(False, f"no statement of {resource.source if resource else 'the key policy'} allows "
                               f"{request.action} for {request.principal}" + (f" ({miss[0]})" if miss else ""))
    if id_allow or res_allow:
        return Decision(True, f"allowed by {(id_allow + res_allow)[0]}")
    miss = (id_miss + res_miss)[:1]
    sources = ", ".join(p.source for p in identity + res) or "no policy"
    return Decision(False, f"no statement allows {request.action} on {request.resource} ({sources})"
                           + (f"; nearest: {miss[0]}" if miss else ""))
