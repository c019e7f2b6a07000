"""A region's entry in the failover state store: the identifiers the controller acts on
(its cluster, health check, node group, alarm topic, ...), written by the region's own
stack into its replica of the global state table, so the controller, which cannot read
stacks that deploy after the one declaring it, learns every region from the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import pulumi
import pulumi_aws as aws

from infra.domain.platform import RegionRecord
from infra.domain.failover_state import encode, topology_key


@dataclass(frozen=True)
class FailoverRegistrationArgs:
    """Inputs of `FailoverRegistration`."""

    table_name: pulumi.Input[str]
    """The state table (`hse-<environment>-failover-state`), replicated in this region."""
    outputs: Mapping[str, pulumi.Input[Any]]
    """The stack's outputs (camelCase), workloads included (`eksClusterName`, `alarmTopicArn`, ...)."""
    app_instance_count: int


def registration_item(outputs: Mapping[str, Any], app_instance_count: int) -> str:
    """The item as DynamoDB JSON (what `aws.dynamodb.TableItem` takes)."""
    record = RegionRecord.from_outputs(dict(outputs), app_instance_count=app_instance_count)
    return json.dumps(encode({**topology_key(record.stack), **record.to_item()}), sort_keys=True)


class FailoverRegistration(pulumi.ComponentResource):
    """One region's topology item in the state table."""

    item_id: pulumi.Output[str]

    def __init__(self, name: str, args: FailoverRegistrationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:ops:FailoverRegistration", name, None, opts)
        keys = list(args.outputs)
        item = pulumi.Output.all(*args.outputs.values()).apply(
            lambda values: registration_item(dict(zip(keys, values)), args.app_instance_count))
        entry = aws.dynamodb.TableItem(f"{name}-item", table_name=args.table_name, hash_key="pk", range_key="sk",
                                       item=item, opts=pulumi.ResourceOptions(parent=self))
        self.item_id = entry.id
        self.register_outputs({"itemId": self.item_id})
