"""Stack config: the three stack files validate, Pulumi.yaml documents every key, and
each kind of bad input fails with a message naming file, key and what is valid, while
the program declares nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import NAMESPACE, StackConfig, deploy_order, load_stack
from infra.domain.problems import ConfigError
from infra.engine import Engine
from infra.config.stackfiles import Project
from tests.conftest import FOURTH_REGION, PROJECT_DIR, edit_stack

EXPECTED = {
    # stack: (role, region, cidr, app instances, deploy order, peers)
    "us-east": ("primary", "us-east-1", "10.0.0.0/16", 5, 0, []),
    "eu-west": ("secondary", "eu-west-1", "10.1.0.0/16", 3, 1, ["us-east"]),
    "ap-se": ("secondary", "ap-southeast-1", "10.2.0.0/16", 3, 2, ["us-east", "eu-west"]),
}


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_stack_files_validate_to_the_spec_values(stack: str) -> None:
    cfg = load_stack(Project(PROJECT_DIR), stack)
    role, region, cidr, instances, order, peers = EXPECTED[stack]
    assert (cfg.role, cfg.aws_region, cfg.network.vpc_cidr) == (role, region, cidr)
    assert cfg.app.instance_count == instances
    assert (cfg.deploy_order, cfg.peers) == (order, peers)
    assert cfg.network.availability_zones == [f"{region}{z}" for z in "abc"]
    assert cfg.network.nat_gateway_count == 3
    assert cfg.network.flow_log_retention_days == 365


def test_deploy_order_puts_the_primary_first() -> None:
    assert deploy_order(Project(PROJECT_DIR)) == ["us-east", "eu-west", "ap-se"]


def test_pulumi_yaml_documents_every_key_with_its_type() -> None:
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    # Pulumi accepts typed declarations only for the project's own namespace.
    assert project["name"] == NAMESPACE
    declared = project["config"]
    hse_declared = {k: v for k, v in declared.items() if k.startswith("hse:")}
    model_keys = StackConfig.keys()
    assert set(hse_declared) == set(model_keys)
    for key, (_, _, info) in model_keys.items():
        annotation = str(info.annotation)
        expected = ("array" if "list" in annotation else "boolean" if "bool" in annotation
                    else "integer" if "int" in annotation else "string")
        assert hse_declared[key]["type"] == expected, key
        assert hse_declared[key].get("description"), f"{key} has no description in Pulumi.yaml"


def test_stack_files_hold_only_hse_keys_that_differ_per_region() -> None:
    for stack in EXPECTED:
        config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert set(config) <= set(StackConfig.keys()), stack
        # Values common to every stack live in the model's defaults, not in each file.
        assert "hse:environment" not in config and "hse:flowLogRetentionDays" not in config


BAD_CASES = [
    # id, stack, changes, fragments the message must contain
    ("unknown-key", "eu-west", {"vpcCidrr": "10.1.0.0/16"},
     ["Pulumi.eu-west.yaml: hse:vpcCidrr: unknown key; did you mean hse:vpcCidr?"]),
    ("wrong-type", "eu-west", {"appInstanceCount": "three"},
     ["Pulumi.eu-west.yaml: hse:appInstanceCount: Stack 'eu-west' with configuration key 'hse:appInstanceCount' "
      "must be of type 'integer' (the stack file holds a string 'three')"]),
    ("list-as-scalar", "eu-west", {"availabilityZones": "eu-west-1a"},
     ["Pulumi.eu-west.yaml: hse:availabilityZones: Stack 'eu-west' with configuration key 'hse:availabilityZones' "
      "must be of type 'array<string>' (the stack file holds a string 'eu-west-1a')"]),
    ("invalid-cidr", "eu-west", {"vpcCidr": "10.1.0.0/33"},
     ["Pulumi.eu-west.yaml: hse:vpcCidr: '10.1.0.0/33' is not a valid IPv4 network", "e.g. 10.0.0.0/16"]),
    ("host-bits-cidr", "eu-west", {"vpcCidr": "10.1.3.0/16"},
     ["hse:vpcCidr: '10.1.3.0/16' is not a valid IPv4 network"]),
    ("public-cidr", "eu-west", {"vpcCidr": "8.8.0.0/16"},
     ["hse:vpcCidr: 8.8.0.0/16 is not in a private range"]),
    ("too-small-cidr", "eu-west", {"vpcCidr": "10.1.0.0/24"},
     ["hse:vpcCidr: 10.1.0.0/24 is a /24; AWS VPCs here must be /16 to /20"]),
    ("overlapping-cidr", "eu-west", {"vpcCidr": "10.0.128.0/17"},
     ["Pulumi.eu-west.yaml: hse:vpcCidr: 10.0.128.0/17 overlaps 10.0.0.0/16 of Pulumi.us-east.yaml"]),
    ("unknown-region", "eu-west", {"awsRegion": "eu-west-9"},
     ["Pulumi.eu-west.yaml: hse:awsRegion: 'eu-west-9' is not an AWS region", "did you mean", "eu-west-1"]),
    ("two-primaries", "eu-west", {"role": "primary", "peers": []},
     ["hse:role: Pulumi.eu-west.yaml and Pulumi.us-east.yaml both set role primary; exactly one stack may be primary"]),
    ("bad-role", "eu-west", {"role": "replica"},
     ["Pulumi.eu-west.yaml: hse:role:", "'primary' or 'secondary'"]),
    ("instances-below-one", "eu-west", {"appInstanceCount": 0},
     ["Pulumi.eu-west.yaml: hse:appInstanceCount: 0 is below 1"]),
    ("az-not-in-region", "eu-west", {"availabilityZones": ["eu-west-1a", "eu-west-1b", "us-east-1c"]},
     ["Pulumi.eu-west.yaml: hse:availabilityZones: us-east-1c not in eu-west-1; valid: eu-west-1a, eu-west-1b, eu-west-1c"]),
    ("two-azs", "eu-west", {"availabilityZones": ["eu-west-1a", "eu-west-1b"]},
     ["hse:availabilityZones: ['eu-west-1a', 'eu-west-1b'] must list 3 distinct availability zones"]),
    ("peer-deploys-later", "eu-west", {"peers": ["us-east", "ap-se"]},
     ["Pulumi.eu-west.yaml: hse:peers: 'ap-se' deploys at order 2, not before this stack (1)"]),
    ("peer-unknown", "eu-west", {"peers": ["us-east", "us-west"]},
     ["hse:peers: 'us-west' has no stack file; valid: ap-se, us-east"]),
    ("secondary-without-primary-peer", "ap-se", {"peers": ["eu-west"]},
     ["Pulumi.ap-se.yaml: hse:peers: ['eu-west'] does not include the primary 'us-east'"]),
    ("duplicate-deploy-order", "ap-se", {"deployOrder": 1, "peers": ["us-east"]},
     ["Pulumi.ap-se.yaml: hse:deployOrder: 1 is also the deploy order of Pulumi.eu-west.yaml"]),
    ("nat-count-out-of-range", "eu-west", {"natGatewayCount": 4},
     ["hse:natGatewayCount: 4 is out of range; expected 1 to 3"]),
    ("retention-not-a-period", "eu-west", {"flowLogRetentionDays": 45},
     ["hse:flowLogRetentionDays: 45 is not a CloudWatch Logs retention period"]),
    ("duplicate-peer", "ap-se", {"peers": ["us-east", "eu-west", "us-east"]},
     ["Pulumi.ap-se.yaml: hse:peers: ['us-east', 'eu-west', 'us-east'] lists a stack twice"]),
    ("primary-not-first", "us-east", {"deployOrder": 3},
     ["Pulumi.us-east.yaml: hse:deployOrder: 3 is not the lowest; the primary deploys first"]),
    ("missing-required", "eu-west", {"vpcCidr": None},
     ["Pulumi.eu-west.yaml: hse:vpcCidr: Stack 'eu-west' is missing configuration value 'hse:vpcCidr'",
      "valid: IPv4 CIDR of the region's VPC"]),
]


@pytest.mark.parametrize("stack,changes,fragments", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_config_fails_with_its_message_and_declares_nothing(project_copy: Path, stack, changes, fragments) -> None:
    edit_stack(project_copy, stack, **changes)
    with pytest.raises(ConfigError) as info:
        Engine(project_copy).plan(stack)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert info.value.declared == [], "the program declared resources before validating its config"


def test_secondary_with_no_primary_fails(project_copy: Path) -> None:
    edit_stack(project_copy, "us-east", role="secondary")
    with pytest.raises(ConfigError) as info:
        Engine(project_copy).plan("eu-west")
    assert ("Pulumi.eu-west.yaml: hse:role: no stack file sets role primary; a secondary replicates from a primary"
            in str(info.value))
    assert info.value.declared == []


def test_every_problem_is_reported_at_once(project_copy: Path) -> None:
    edit_stack(project_copy, "eu-west", appInstanceCount=0, awsRegion="eu-west-9", bogus=1)
    with pytest.raises(ConfigError) as info:
        Engine(project_copy).plan("eu-west")
    keys = sorted(p.key for p in info.value.problems)
    assert keys == ["hse:appInstanceCount", "hse:awsRegion", "hse:bogus"]


def test_overlap_with_a_deployed_peer_is_caught_before_declaring(project_copy: Path, plans) -> None:
    # The stack files are disjoint, but us-east as deployed uses eu-west's network.
    deployed = dict(plans["us-east"].outputs, vpcCidr="10.1.0.0/16")
    with pytest.raises(ConfigError) as info:
        Engine(project_copy, deployed={"us-east": deployed}).plan("eu-west")
    assert ("Pulumi.eu-west.yaml: hse:vpcCidr: 10.1.0.0/16 overlaps 10.1.0.0/16, the VPC stack 'us-east' has deployed"
            in str(info.value))
    assert info.value.declared == []


def test_a_deployed_peer_that_does_not_deploy_earlier_is_named(project_copy: Path, plans) -> None:
    deployed = dict(plans["us-east"].outputs, deployOrder=1)
    with pytest.raises(ConfigError) as info:
        Engine(project_copy, deployed={"us-east": deployed}).plan("eu-west")
    assert ("Pulumi.eu-west.yaml: hse:peers: deployed stack 'us-east' has deploy order 1, not before this stack (1)"
            in str(info.value))
    assert info.value.declared == []


def test_a_peer_that_was_never_deployed_is_named(project_copy: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Engine(project_copy, deployed={"us-east": {}}).plan("eu-west")
    message = str(info.value)
    assert "stack organization/hse/us-east: output 'vpcId' is missing; deploy it first (pulumi up --stack us-east)" in message
    assert info.value.declared == []


def test_a_global_datastore_replicates_to_at_most_two_secondary_regions(project_copy: Path) -> None:
    edit_stack(project_copy, "au", **FOURTH_REGION)
    for stack in ("us-east", "eu-west", "ap-se", "au"):
        edit_stack(project_copy, stack, cacheGlobalDatastore=True)
    # The two secondaries deploying first join; the third is refused.
    assert load_stack(Project(project_copy), "ap-se").cache.global_datastore is True
    with pytest.raises(ConfigError) as info:
        load_stack(Project(project_copy), "au")
    assert [str(p) for p in info.value.problems] == [
        "Pulumi.au.yaml: hse:cacheGlobalDatastore: Pulumi.eu-west.yaml and Pulumi.ap-se.yaml already join the "
        "Global Datastore; AWS allows at most 2 secondary regions: remove it from this file (this region keeps a "
        "stand-alone cluster)"]
    edit_stack(project_copy, "au", cacheGlobalDatastore=False)
    assert load_stack(Project(project_copy), "au").cache.global_datastore is False
