"""The region resolver as an application uses it: the `routingTable` output of a stack in,
a region out, for any headers, tenant preference, residency and health."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.domain.routing_table import DeployedRegion, build
from resolver import Resolver
from resolver.region_resolver import HEADER_PRECEDENCE

THREE = [DeployedRegion("us-east", "us-east-1", True, 0), DeployedRegion("eu-west", "eu-west-1", False, 1),
         DeployedRegion("ap-se", "ap-southeast-1", False, 2)]


@pytest.fixture(scope="module")
def resolver():
    return Resolver(build(THREE).to_json())


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
