"""The pack's shape: enough rules, named and described as the house style asks, every
checkov check the issue lists covered, levels overridable through pack config, the docs
table complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from policies.pack import POLICIES, PackConfigError, resolve, tag_values

REQUIRED_CHECKOV = [f"CKV_AWS_{n}" for n in (96, 327, 140, 133, 139, 162, 324, 226, 353, 354, 29, 30, 31, 191, 34, 174,
                                             68, 86, 310, 7, 33, 149, 37, 38, 39, 58, 158)] + \
                   [f"CKV2_AWS_{n}" for n in (5, 8, 11, 12, 27, 38, 44, 46, 50, 57)]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def test_at_least_forty_rules_with_unique_kebab_names():
    names = [p.name for p in POLICIES]
    assert len(names) >= 40
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)


def test_every_rule_has_one_sentence_and_an_explicit_level():
    for p in POLICIES:
        assert p.description.endswith(".") and p.description.count(". ") == 0, p.name
        assert p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY), p.name


def test_every_listed_checkov_check_is_covered():
    covered = {c for p in POLICIES for c in tag_values(p, "checkov")}
    assert [c for c in REQUIRED_CHECKOV if c not in covered] == []


def test_pack_config_overrides_levels_like_the_cli():
    assert resolve({"all": "advisory"})["rds-cluster-storage-encrypted"].level == EnforcementLevel.ADVISORY
    resolved = resolve({"all": "advisory", "rds-backup-retention": {"enforcementLevel": "disabled", "minimumDays": 35}})
    assert resolved["rds-backup-retention"].level == EnforcementLevel.DISABLED
    assert resolved["rds-backup-retention"].properties == {"minimumDays": 35}
    assert resolve()["rds-backup-retention"].properties == {"minimumDays": 30}
    with pytest.raises(PackConfigError, match="unknown enforcement level 'strict'"):
        resolve({"all": "strict"})
    with pytest.raises(PackConfigError, match="unknown policy 'no-such-rule' in the pack config"):
        resolve({"no-such-rule": "mandatory"})


def test_docs_table_lists_every_rule_with_its_level_and_checks():
    rows = {m[1]: m[0] for m in re.findall(r"^(\| `([a-z0-9-]+)` \|.*)$", DOCS.read_text(), re.M)}
    for p in POLICIES:
        assert p.name in rows, p.name
        assert p.enforcement_level.value in rows[p.name], p.name
        for check in tag_values(p, "checkov"):
            assert check in rows[p.name], (p.name, check)
