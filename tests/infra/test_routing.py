"""The routing table (continent rules, computed country overrides) and the resolver
applications use, table-driven and property-based."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.region_resolver import HEADER_PRECEDENCE, Resolver
from infra.routing_table import DeployedRegion, build, quality

THREE = [DeployedRegion("us-east", "us-east-1", True, 0), DeployedRegion("eu-west", "eu-west-1", False, 1),
         DeployedRegion("ap-se", "ap-southeast-1", False, 2)]


@pytest.fixture(scope="module")
def table():
    return build(THREE)


@pytest.fixture(scope="module")
def resolver(table):
    return Resolver(table.to_json())


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


@pytest.mark.parametrize("headers,expected", [
    ({"cf-ipcountry": "DE"}, "eu-west"),
    ({"CloudFront-Viewer-Country": "JP"}, "ap-se"),
    ({"x-vercel-ip-country": "BR"}, "us-east"),
    ({"x-geo-country": "TR"}, "eu-west"),
    ({"cf-ipcountry": "DE", "x-geo-country": "JP"}, "eu-west"),          # the CDN's header wins
    ({"cloudfront-viewer-country": "AU", "x-vercel-ip-country": "DE"}, "ap-se"),
    ({"cf-ipcountry": "XX", "x-geo-country": "JP"}, "ap-se"),            # unknown: next header
    ({"cf-ipcountry": "T1"}, "us-east"),                                 # Tor: no country
    ({"cf-ipcountry": "de"}, "us-east"),                                 # lower case: not a CDN's value
    ({"cf-ipcountry": ""}, "us-east"),
    ({"cf-ipcountry": " DE "}, "eu-west"),
    ({"cf-ipcountry": "DEU"}, "us-east"),
    ({"cf-ipcountry": "D" * 10_000}, "us-east"),
    ({"cf-ipcountry": "DE\r\nX-Evil: 1"}, "us-east"),
    ({"cf-ipcountry": "QQ"}, "us-east"),                                 # not a country the table knows
    ({"cf-ipcountry": None}, "us-east"),
    ({"cf-ipcountry": b"DE"}, "us-east"),
    ({}, "us-east"),
])
def test_the_resolver_reads_headers_in_precedence(resolver, headers, expected) -> None:
    assert resolver.resolve(headers) == expected


def test_header_precedence_is_documented_order() -> None:
    assert HEADER_PRECEDENCE == ("cf-ipcountry", "cloudfront-viewer-country", "x-vercel-ip-country", "x-geo-country")


def test_tenant_preference_residency_and_health(resolver) -> None:
    assert resolver.resolve({"cf-ipcountry": "JP"}, tenant_preference="eu-west") == "eu-west"
    assert resolver.resolve({"cf-ipcountry": "JP"}, tenant_preference="mars-1") == "ap-se"
    # An unhealthy region's users go to the nearest healthy one.
    assert resolver.resolve({"cf-ipcountry": "DE"}, healthy=["us-east", "ap-se"]) == "us-east"
    assert resolver.resolve({"cf-ipcountry": "IN"}, healthy=["us-east", "eu-west"]) == "eu-west"
    # Residency is a hard limit, even against preference and health.
    assert resolver.resolve({"cf-ipcountry": "JP"}, residency="EU") == "eu-west"
    assert resolver.resolve({"cf-ipcountry": "DE"}, tenant_preference="us-east", residency="EU") == "eu-west"
    assert resolver.resolve({"cf-ipcountry": "DE"}, residency="EU", healthy=["us-east"]) == "eu-west"
    assert resolver.resolve({"cf-ipcountry": "DE"}, residency="OC") is None


_headers = st.dictionaries(
    st.one_of(st.sampled_from(HEADER_PRECEDENCE), st.text(max_size=30)),
    st.one_of(st.text(max_size=40), st.none(), st.integers(), st.binary(max_size=8)), max_size=6)


@settings(max_examples=400, deadline=None)
@given(headers=_headers, preference=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["eu-west", "ap-se"])),
       healthy=st.one_of(st.none(), st.lists(st.sampled_from(["us-east", "eu-west", "ap-se", "nope"]), max_size=4)))
def test_no_input_makes_the_resolver_raise_or_leave_the_platform(resolver, headers, preference, healthy) -> None:
    assert resolver.resolve(headers, tenant_preference=preference, healthy=healthy) in {"us-east", "eu-west", "ap-se"}


@settings(max_examples=200, deadline=None)
@given(headers=_headers, residency=st.one_of(st.sampled_from(["EU", "NA", "AS", "eu"]), st.text(max_size=5)))
def test_residency_is_never_left(resolver, headers, residency) -> None:
    result = resolver.resolve(headers, residency=residency)
    zone = {"EU": {"eu-west"}, "NA": {"us-east"}, "AS": {"ap-se"}}.get(residency.strip().upper())
    if zone is None:
        assert result is None
    else:
        assert result in zone


def test_every_stack_exports_the_same_table_applications_can_resolve_with(plans, table) -> None:
    versions = {plan.outputs["routingTableVersion"] for plan in plans.values()}
    assert versions == {table.version}
    exported = plans["eu-west"].outputs["routingTable"]
    assert exported == table.to_json()
    assert Resolver(exported).resolve({"cf-ipcountry": "TR"}) == "eu-west"


def test_docs_routing_md_is_the_table_of_the_stack_files(table, tmp_path) -> None:
    import io

    from infra.cli import main
    from infra.routing_table import to_markdown
    from tests.conftest import PROJECT_DIR

    written = tmp_path / "routing.md"
    assert main(["routing", "--markdown", str(written)], out=io.StringIO(), err=io.StringIO()) == 0
    assert written.read_text() == to_markdown(table)
    assert (PROJECT_DIR / "docs" / "routing.md").read_text() == written.read_text(), \
        "docs/routing.md is out of date: run python -m infra.cli routing --markdown docs/routing.md"
    assert "| TR Turkey | AS | `ap-se` | `eu-west` |" in written.read_text()


def test_dns_failover_reaches_the_nearest_healthy_region(table) -> None:
    from infra.routing_table import dns_answer, failover_quality

    everyone = set(table.regions)
    assert dns_answer(table, "DE", everyone) == "eu-west"
    # Europe's continent record fails its check: the default, then the nearest healthy region.
    assert dns_answer(table, "DE", everyone - {"eu-west"}) == "us-east"
    assert dns_answer(table, "BR", everyone - {"us-east"}) == "eu-west"
    # An override's region down: Route53 falls back to the country's continent record.
    assert table.overrides["IL"] == "eu-west" and dns_answer(table, "IL", everyone - {"eu-west"}) == "ap-se"
    good, measured = failover_quality(table)
    assert (good, measured) == (3 * 243, 3 * 243)
