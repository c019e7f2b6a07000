"""The routing table (continent rules, computed country overrides) and the resolver
applications use, table-driven and property-based."""

from __future__ import annotations

import pytest

from infra.domain.routing_table import DeployedRegion, build, quality
from resolver import Resolver

THREE = [DeployedRegion("us-east", "us-east-1", True, 0), DeployedRegion("eu-west", "eu-west-1", False, 1),
         DeployedRegion("ap-se", "ap-southeast-1", False, 2)]


@pytest.fixture(scope="module")
def table():
    return build(THREE)


def test_the_continent_rules_are_the_specs(table) -> None:
    assert table.continents == {"NA": "us-east", "SA": "us-east", "EU": "eu-west", "AF": "eu-west",
                                "AS": "ap-se", "OC": "ap-se"}
    assert table.default == "us-east"  # anything unmatched (Antarctica) goes to the primary
    assert table.region_for("AQ") == "us-east"


@pytest.mark.parametrize("country,region", [
    ("TR", "eu-west"), ("IL", "eu-west"), ("SA", "eu-west"), ("IR", "eu-west"), ("AM", "eu-west"),  # Western Asia
    ("MG", "ap-se"), ("MU", "ap-se"),                  # Indian Ocean islands, closer to Singapore than Ireland
    ("ZA", "eu-west"), ("NG", "eu-west"), ("BR", "us-east"), ("AR", "us-east"), ("AU", "ap-se"),
    ("NZ", "ap-se"), ("IN", "ap-se"), ("JP", "ap-se"), ("DE", "eu-west"), ("US", "us-east"), ("MX", "us-east"),
])
def test_countries_go_where_the_table_says(table, country, region) -> None:
    assert table.region_for(country) == region


def test_overrides_only_where_the_continent_rule_sends_too_far(table) -> None:
    assert {"TR", "IL", "SA", "MG"} <= set(table.overrides)
    assert not {"ZA", "BR", "AU", "IN", "RU", "EG"} & set(table.overrides)


def test_the_table_routes_every_country_within_the_bound(table) -> None:
    rules_good, measured = quality(table, with_overrides=False)
    table_good, _ = quality(table)
    print(f"\nrouting quality: continent rules {rules_good}/{measured} = {rules_good / measured:.1%}, "
          f"table {table_good}/{measured} = {table_good / measured:.1%} (within 1.25x the nearest region)")
    assert table_good == measured and rules_good < measured and measured >= 240


def test_a_new_region_joins_by_its_stack_file_alone() -> None:
    table = build([*THREE, DeployedRegion("au", "ap-southeast-2", False, 3)])
    assert table.continents["OC"] == "au" and table.continents["AS"] == "ap-se"
    assert table.region_for("AU") == "au" and table.region_for("NZ") == "au"
    assert quality(table)[0] == quality(table)[1]
    assert table.version != build(THREE).version == build(THREE).version


def test_every_stack_exports_the_same_table_applications_can_resolve_with(plans, table) -> None:
    versions = {plan.outputs["routingTableVersion"] for plan in plans.values()}
    assert versions == {table.version}
    exported = plans["eu-west"].outputs["routingTable"]
    assert exported == table.to_json()
    assert Resolver(exported).resolve({"cf-ipcountry": "TR"}) == "eu-west"


def test_docs_routing_md_is_the_table_of_the_stack_files(table, tmp_path) -> None:
    import io

    from infra.cli.main import main
    from infra.domain.routing_table import to_markdown
    from tests.conftest import PROJECT_DIR

    written = tmp_path / "routing.md"
    assert main(["routing", "--markdown", str(written)], out=io.StringIO(), err=io.StringIO()) == 0
    assert written.read_text() == to_markdown(table)
    assert (PROJECT_DIR / "docs" / "routing.md").read_text() == written.read_text(), \
        "docs/routing.md is out of date: run python -m infra.cli routing --markdown docs/routing.md"
    assert "| TR Turkey | AS | `ap-se` | `eu-west` |" in written.read_text()


def test_dns_failover_reaches_the_nearest_healthy_region(table) -> None:
    from infra.domain.routing_table import dns_answer, failover_quality

    everyone = set(table.regions)
    assert dns_answer(table, "DE", everyone) == "eu-west"
    # Europe's continent record fails its check: the default, then the nearest healthy region.
    assert dns_answer(table, "DE", everyone - {"eu-west"}) == "us-east"
    assert dns_answer(table, "BR", everyone - {"us-east"}) == "eu-west"
    # An override's region down: Route53 falls back to the country's continent record.
    assert table.overrides["IL"] == "eu-west" and dns_answer(table, "IL", everyone - {"eu-west"}) == "ap-se"
    good, measured = failover_quality(table)
    assert (good, measured) == (3 * 243, 3 * 243)
