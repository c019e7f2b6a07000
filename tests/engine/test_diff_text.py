"""The diff's wording: the lines the terminal, the pull-request Markdown and the report share."""

from __future__ import annotations

from infra.cli.markdown import plan_markdown
from infra.engine.diff import ABSENT, Change, Refusal, ResourceChange, StackDiff
from infra.engine.diff_text import change_text, diff_lines, output_lines, value_text

_VPC = "urn:pulumi:s::p::aws:ec2/vpc:Vpc::vpc"
_TABLE = "urn:pulumi:s::p::aws:dynamodb/table:Table::tbl"


def test_change_text_marks_adds_removes_changes_and_forced_replacements() -> None:
    assert change_text(Change("a", ABSENT, "x")) == '+ a: "x"'
    assert change_text(Change("a", 1, ABSENT)) == "- a: 1"
    assert change_text(Change("cidr", "10.1.0.0/16", "10.9.0.0/16", "cidr")) == \
        '~ cidr: "10.1.0.0/16" → "10.9.0.0/16"  [forces replacement]'
    assert value_text(["(known after deploy)"] * 3) == "3 × (known after deploy)"
    assert value_text({str(i): "x" * 20 for i in range(10)}) == "{10 keys}"


def test_a_replacement_heading_names_what_forces_it_and_delete_before_replace() -> None:
    vpc = ResourceChange(_VPC, "aws:ec2/vpc:Vpc", (Change("cidr", "a", "b", "cidr"), Change("tags", 1, 2)))
    table = ResourceChange(_TABLE, "aws:dynamodb/table:Table", (Change("hashKey", "a", "b", "hashKey"),), True)
    assert list(diff_lines(StackDiff("s", replaces=[vpc, table]))) == [
        ("data-loss", "data loss: replace of aws.dynamodb.Table tbl loses the table's items (the failover state); "
                      "to accept it, name it: --allow-data-loss tbl"),
        ("replace", "  +- aws.ec2.Vpc  vpc  (replace: cidr)"),
        ("replace", '      ~ cidr: "a" → "b"  [forces replacement]'),
        ("replace", "      ~ tags: 1 → 2"),
        ("replace", "  -+ aws.dynamodb.Table  tbl  (delete before replace: hashKey)"),
        ("replace", '      ~ hashKey: "a" → "b"  [forces replacement]')]


def test_without_a_baseline_creates_are_listed_only_when_verbose() -> None:
    diff = StackDiff("s", creates=[ResourceChange(_VPC, "aws:ec2/vpc:Vpc")], outputs=[Change("o", ABSENT, 1)],
                     baseline=False)
    assert list(diff_lines(diff)) == [("note", "no earlier plan of s: every resource is new")]
    assert list(diff_lines(diff, verbose=True))[1:] == [("create", "  + aws.ec2.Vpc  vpc"), ("note", "  outputs:"),
                                                        ("note", "    + o: 1")]
    diff.baseline = True
    assert list(diff_lines(diff)) == [("create", "  + aws.ec2.Vpc  vpc"), ("note", "  outputs:"),
                                      ("note", "    + o: 1")]


def test_many_output_changes_are_summarised_unless_verbose() -> None:
    changes = [Change(f"routingTable.nearest.C{i}[0]", "us-east-1", "eu-west-1") for i in range(9)]
    assert list(output_lines(changes, verbose=False)) == [
        "~ routingTable: 9 values changed; entries changed per part: nearest 9",
        "    countries whose nearest region changed, by the new one: eu-west-1 9",
        "    (--verbose lists every path)"]
    assert len(list(output_lines(changes, verbose=True))) == 9
    assert len(list(output_lines(changes[:8], verbose=False))) == 8


def test_markdown_lists_refusals_apart_and_skips_unchanged_stacks() -> None:
    refusal = Refusal(_VPC, "aws:ec2/vpc:Vpc", "delete", "pulumi", "unable to delete resource\nas it is protected")
    changed = StackDiff("a", deletes=[ResourceChange(_VPC, "aws:ec2/vpc:Vpc")], refusals=[refusal])
    text = plan_markdown([], [changed, StackDiff("b", unchanged=3)])
    assert "- **a**: unable to delete resource as it is protected" in text
    assert "<details><summary>a: +0 ~0 +-0 -1</summary>" in text and "<summary>b:" not in text
    body = text.split("```diff\n", 1)[1].split("```", 1)[0]
    assert body == "- aws.ec2.Vpc  vpc\n"
    assert "| b | 0 | 0 | 0 | 0 | 3 | – | – | – |" in text
