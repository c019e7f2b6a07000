"""The AWS regions this platform may deploy to, and their availability zones.

Config validation reads this table before any resource is declared, so a typo in a
region or an availability zone is caught offline instead of half-way through
`pulumi up`. Zone names are the ones AWS publishes for the region; an account may see
only a subset, which the deployment re-checks through `aws.get_availability_zones`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AwsRegion:
    """One AWS commercial region."""

    name: str
    continent: str
    zone_suffixes: str

    @property
    def availability_zones(self) -> tuple[str, ...]:
        return tuple(f"{self.name}{s}" for s in self.zone_suffixes)

    @property
    def zone_ids(self) -> tuple[str, ...]:
        """Zone ids in the `use1-az1` form (the mapping is per account; this is a stand-in order)."""
        short = _short_code(self.name)
        return tuple(f"{short}-az{i + 1}" for i in range(len(self.zone_suffixes)))


def _short_code(region: str) -> str:
    area, direction, number = region.split("-")
    directions = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
                  "northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw"}
    return f"{area}{directions[direction]}{number}"


# Continent codes are Route53's (NA, SA, EU, AF, AS, OC).
_REGIONS = (
    AwsRegion("us-east-1", "NA", "abcdef"),
    AwsRegion("us-east-2", "NA", "abc"),
    AwsRegion("us-west-1", "NA", "ac"),
    AwsRegion("us-west-2", "NA", "abcd"),
    AwsRegion("ca-central-1", "NA", "abd"),
    AwsRegion("ca-west-1", "NA", "abc"),
    AwsRegion("mx-central-1", "NA", "abc"),
    AwsRegion("sa-east-1", "SA", "abc"),
    AwsRegion("eu-west-1", "EU", "abc"),
    AwsRegion("eu-west-2", "EU", "abc"),
    AwsRegion("eu-west-3", "EU", "abc"),
    AwsRegion("eu-central-1", "EU", "abc"),
    AwsRegion("eu-central-2", "EU", "abc"),
    AwsRegion("eu-north-1", "EU", "abc"),
    AwsRegion("eu-south-1", "EU", "abc"),
    AwsRegion("eu-south-2", "EU", "abc"),
    AwsRegion("af-south-1", "AF", "abc"),
    AwsRegion("me-south-1", "AS", "abc"),
    AwsRegion("me-central-1", "AS", "abc"),
    AwsRegion("il-central-1", "AS", "abc"),
    AwsRegion("ap-east-1", "AS", "abc"),
    AwsRegion("ap-south-1", "AS", "abc"),
    AwsRegion("ap-south-2", "AS", "abc"),
    AwsRegion("ap-northeast-1", "AS", "acd"),
    AwsRegion("ap-northeast-2", "AS", "abcd"),
    AwsRegion("ap-northeast-3", "AS", "abc"),
    AwsRegion("ap-southeast-1", "AS", "abc"),
    AwsRegion("ap-southeast-2", "OC", "abc"),
    AwsRegion("ap-southeast-3", "AS", "abc"),
    AwsRegion("ap-southeast-4", "OC", "abc"),
    AwsRegion("ap-southeast-5", "AS", "abc"),
    AwsRegion("ap-southeast-7", "AS", "abc"),
)

REGIONS: dict[str, AwsRegion] = {r.name: r for r in _REGIONS}


def region(name: str) -> AwsRegion:
    """The region called `name`; KeyError if AWS has no such commercial region."""
    return REGIONS[name]
