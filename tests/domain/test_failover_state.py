"""The state table's item encoding without boto3 matches boto3's own, both ways."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from infra.domain.failover_state import decode, encode, from_attribute, table_definition, to_attribute

ITEM = {"pk": "REGION#eu-west", "sk": "TOPOLOGY", "healthy": True, "since": 1733130000.25, "count": 3,
        "nothing": None, "tenants": ["acme", "globex"], "nested": {"lag": 0.5, "weights": [10, 25, 50, 100]}}


def test_encode_is_what_boto3_writes() -> None:
    ser = TypeSerializer()

    def boto(value):
        if isinstance(value, float):
            return Decimal(str(value))
        if isinstance(value, dict):
            return {k: boto(v) for k, v in value.items()}
        if isinstance(value, list):
            return [boto(v) for v in value]
        return value

    expected = {k: ser.serialize(boto(v)) for k, v in ITEM.items() if v is not None}
    assert encode(ITEM) == expected
    assert "nothing" not in encode(ITEM)


def test_decode_reads_what_boto3_reads_as_plain_numbers() -> None:
    plain = {k: v for k, v in ITEM.items() if v is not None}
    assert decode(encode(ITEM)) == plain
    deserialized = {k: TypeDeserializer().deserialize(v) for k, v in encode(ITEM).items()}
    assert deserialized["count"] == Decimal(3) and decode(encode(ITEM))["count"] == 3
    assert isinstance(decode(encode({"n": 2.0}))["n"], int)
    assert from_attribute({"NULL": True}) is None and to_attribute(None) == {"NULL": True}


def test_unstorable_values_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot store a object"):
        to_attribute(object())
    with pytest.raises(ValueError, match="unsupported DynamoDB attribute type 'SS'"):
        from_attribute({"SS": ["a"]})


def test_the_table_has_the_pk_and_sk_keys() -> None:
    table = table_definition("t")
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
