"""The failover state table's shape, shared by the component that declares it, the stack
that registers its region in it, the operator tools and the Lambda that read and write it.

Items have the partition key `pk` and the sort key `sk` (the table of items is in
`infra/ops/state.py`). Values are stored as DynamoDB attribute values; `encode` and
`decode` convert plain JSON-like values (str, int, float, bool, None, dicts and lists)
both ways without boto3, so the program can declare table items with the same encoding
the operator tools use.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PLATFORM = "PLATFORM"
EVENTS = "EVENTS"
TOPOLOGY = "TOPOLOGY"
"""The one partition of every region's registration (sort key: the stack): the whole platform
is one Query, which the application's role may make (it has GetItem and Query, no Scan)."""


def capacity_key(stack: str) -> dict[str, str]:
    """The key of `stack`'s capacity item: the HPA minimum the cluster side applies."""
    return {"pk": f"REGION#{stack}", "sk": "CAPACITY"}


def topology_key(stack: str) -> dict[str, str]:
    """The key of `stack`'s registration item."""
    return {"pk": TOPOLOGY, "sk": stack}

TTL_ATTRIBUTE = "expiresAt"
"""The table's time-to-live attribute: epoch seconds (a Number), after which DynamoDB deletes
the item in the background (usually within a few days of expiry; deletes replicate to every
replica of the global table and consume no write capacity). Only timeline events carry it:
the platform state, the lock, health, capacity and topology items never expire."""
EVENT_RETENTION_DAYS = 90
"""How long timeline events are kept: a quarter, enough for a failover's review and the next
game day, while the EVENTS partition stays bounded (its reads are paginated anyway)."""


def event_expiry(now: float) -> int:
    """The `expiresAt` of an event recorded at `now` (epoch seconds)."""
    return int(now) + EVENT_RETENTION_DAYS * 86_400


def table_definition(name: str) -> dict[str, Any]:
    """The table as `create_table` takes it (the program declares the same keys and turns
    on time to live for `TTL_ATTRIBUTE`, as `update_time_to_live` does for a test table)."""
    return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}


def to_attribute(value: Any) -> dict[str, Any]:
    """One value as a DynamoDB attribute value (`{"S": ...}`, `{"N": ...}`, ...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": str(Decimal(str(value)) if isinstance(value, float) else value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in the state table")


def from_attribute(attribute: dict[str, Any]) -> Any:
    """The plain value of a DynamoDB attribute value (numbers as int when whole, else float)."""
    (kind, value), = attribute.items()
    if kind == "NULL":
        return None
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind in ("S", "BOOL"):
        return value
    if kind == "B":
        return bytes(value)
    raise ValueError(f"unsupported DynamoDB attribute type {kind!r}")


def encode(item: dict[str, Any]) -> dict[str, Any]:
    """An item for `put_item` / `TableItem`: attributes that are None are left out."""
    return {k: to_attribute(v) for k, v in item.items() if v is not None}


def decode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attribute(v) for k, v in item.items()}
