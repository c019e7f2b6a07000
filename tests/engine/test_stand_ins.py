"""Values the offline cloud makes up are stand-ins, shown as such everywhere, and never in
another region's form."""

from __future__ import annotations

import json

from infra.domain import app_contract
from infra.engine.plan import COMPUTED
from infra.engine.summary import plan_outputs


def test_every_endpoint_id_and_generated_name_in_the_outputs_is_known_after_deploy(plans) -> None:
    for stack in ("us-east", "eu-west", "ap-se"):
        outputs = plan_outputs(plans[stack])
        for key in ("loadBalancerHostname", "hostedZoneId", "eksClusterName", "dbWriterEndpoint", "kmsKeyArn",
                    "vpcId", "healthCheckId"):
            assert outputs[key] == COMPUTED, (stack, key, outputs[key])
        # What the stack files say is shown as it is.
        assert outputs["awsRegion"] == plans[stack].outputs["awsRegion"] and outputs["accountId"] == "111122223333"
        assert outputs["vpcCidr"].startswith("10.")


def test_a_secondary_marks_what_it_read_from_the_primary(plans) -> None:
    primary_zone = plans["us-east"].outputs["hostedZoneId"]
    assert plans["ap-se"].outputs["hostedZoneId"] == primary_zone
    assert primary_zone in plans["ap-se"].stand_ins and primary_zone in plans["us-east"].stand_ins


def test_a_load_balancer_hostname_is_in_its_clusters_region(plans) -> None:
    for stack, region in (("us-east", "us-east-1"), ("eu-west", "eu-west-1"), ("ap-se", "ap-southeast-1")):
        hostname = plans[stack].outputs["loadBalancerHostname"]
        assert hostname.endswith(f".elb.{region}.amazonaws.com") and hostname in plans[stack].stand_ins


def test_known_values_are_not_stand_ins(plans) -> None:
    stand_ins = plans["us-east"].stand_ins
    assert "111122223333" not in stand_ins and "us-east-1" not in stand_ins
    assert not any(len(value) < 8 for value in stand_ins)


def test_a_plan_file_tells_the_app_contract_which_values_are_stand_ins(plans, tmp_path) -> None:
    path = tmp_path / "eu-west.json"
    path.write_text(json.dumps(plans["eu-west"].to_export()))
    contract = app_contract.load(path)
    assert {"dbWriterEndpoint", "dbSecretArn", "loadBalancerHostname", "healthCheckId"} <= set(contract.stand_ins)
    assert not {"stack", "awsRegion", "role", "appHost", "dbPort", "routingTableVersion"} & set(contract.stand_ins)
    known = contract.known()
    assert known["stack"] == "eu-west" and "dbWriterEndpoint" not in known
    outputs = tmp_path / "outputs.json"  # `pulumi stack output --json`: every value is real
    outputs.write_text(json.dumps(plans["eu-west"].outputs))
    assert app_contract.load(outputs).stand_ins == ()
