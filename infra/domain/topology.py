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
    latitude: float
    """Where the region's data centres are (its metro area), for great-circle distances."""
    longitude: float

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


# Continent codes are Route53's (NA, SA, EU, AF, AS, OC); coordinates are the region's metro area.
_REGIONS = (
    AwsRegion("us-east-1", "NA", "abcdef", 39.04, -77.49),
    AwsRegion("us-east-2", "NA", "abc", 39.96, -83.0),
    AwsRegion("us-west-1", "NA", "ac", 37.35, -121.96),
    AwsRegion("us-west-2", "NA", "abcd", 45.84, -119.7),
    AwsRegion("ca-central-1", "NA", "abd", 45.5, -73.57),
    AwsRegion("ca-west-1", "NA", "abc", 51.05, -114.07),
    AwsRegion("mx-central-1", "NA", "abc", 20.59, -100.39),
    AwsRegion("sa-east-1", "SA", "abc", -23.55, -46.63),
    AwsRegion("eu-west-1", "EU", "abc", 53.35, -6.26),
    AwsRegion("eu-west-2", "EU", "abc", 51.51, -0.13),
    AwsRegion("eu-west-3", "EU", "abc", 48.86, 2.35),
    AwsRegion("eu-central-1", "EU", "abc", 50.11, 8.68),
    AwsRegion("eu-central-2", "EU", "abc", 47.37, 8.54),
    AwsRegion("eu-north-1", "EU", "abc", 59.33, 18.07),
    AwsRegion("eu-south-1", "EU", "abc", 45.46, 9.19),
    AwsRegion("eu-south-2", "EU", "abc", 41.65, -0.88),
    AwsRegion("af-south-1", "AF", "abc", -33.92, 18.42),
    AwsRegion("me-south-1", "AS", "abc", 26.07, 50.56),
    AwsRegion("me-central-1", "AS", "abc", 25.2, 55.27),
    AwsRegion("il-central-1", "AS", "abc", 32.09, 34.78),
    AwsRegion("ap-east-1", "AS", "abc", 22.32, 114.17),
    AwsRegion("ap-south-1", "AS", "abc", 19.08, 72.88),
    AwsRegion("ap-south-2", "AS", "abc", 17.39, 78.49),
    AwsRegion("ap-northeast-1", "AS", "acd", 35.68, 139.69),
    AwsRegion("ap-northeast-2", "AS", "abcd", 37.57, 126.98),
    AwsRegion("ap-northeast-3", "AS", "abc", 34.69, 135.5),
    AwsRegion("ap-southeast-1", "AS", "abc", 1.35, 103.82),
    AwsRegion("ap-southeast-2", "OC", "abc", -33.87, 151.21),
    AwsRegion("ap-southeast-3", "AS", "abc", -6.2, 106.85),
    AwsRegion("ap-southeast-4", "OC", "abc", -37.81, 144.96),
    AwsRegion("ap-southeast-5", "AS", "abc", 3.14, 101.69),
    AwsRegion("ap-southeast-7", "AS", "abc", 13.76, 100.5),
)

REGIONS: dict[str, AwsRegion] = {r.name: r for r in _REGIONS}


def region(name: str) -> AwsRegion:
    """The region called `name`; KeyError if AWS has no such commercial region."""
    return REGIONS[name]
