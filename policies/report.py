"""How a check's result is shown: a table on the terminal, JSON, and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from typing import Iterable

from rich.console import Console
from rich.table import Table

from policies.pack import PACK_NAME, POLICIES, Resolved, tag_values
from policies.runner import StackResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}


def print_table(console: Console, results: Iterable[StackResult]) -> None:
    for result in results:
        if result.findings:
            table = Table(title=f"stack {result.stack}", title_justify="left")
            for column in ("rule", "level", "resource", "message"):
                table.add_column(column, overflow="fold")
            for f in result.findings:
                table.add_row(f.policy, f.level, f.resource, f.message)
            console.print(table)
        for name, reason in sorted(result.not_applicable.items()):
            console.print(f"{result.stack}: {name} not applicable: {reason}")
        verdict = "FAIL" if result.mandatory else "PASS"
        console.print(f"{result.stack}: {verdict} — {len(result.mandatory)} mandatory, "
                      f"{len(result.findings) - len(result.mandatory)} advisory violation(s) over "
                      f"{result.resources} resources", markup=False, highlight=False)


def to_json(results: Iterable[StackResult]) -> dict:
    return {"pack": PACK_NAME, "stacks": [
        {"stack": r.stack, "resources": r.resources, "passed": not r.mandatory,
         "violations": [{"policy": f.policy, "level": f.level, "urn": f.urn, "message": f.message} for f in r.findings],
         "notApplicable": dict(sorted(r.not_applicable.items()))} for r in results]}


def to_sarif(results: Iterable[StackResult], config: dict[str, Resolved], artifact: str = "Pulumi.yaml") -> dict:
    """One run with every rule described; each violation located at the stack file it came from."""
    rules = []
    index = {}
    for i, policy in enumerate(POLICIES):
        index[policy.name] = i
        checks = tag_values(policy, "checkov")
        rules.append({
            "id": policy.name,
            "name": policy.name,
            "shortDescription": {"text": policy.description},
            "fullDescription": {"text": policy.description + (f" (checkov {', '.join(checks)})" if checks else "")},
            "defaultConfiguration": {"level": SARIF_LEVEL.get(config[policy.name].level.value, "none")},
            "properties": {"tags": list(policy.tags or []), "enforcementLevel": config[policy.name].level.value},
        })
    findings = []
    for result in results:
        for f in result.findings:
            findings.append({
                "ruleId": f.policy, "ruleIndex": index[f.policy], "level": SARIF_LEVEL[f.level],
                "message": {"text": f"{f.message} ({f.resource})"},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": f"Pulumi.{result.stack}.yaml"
                                                             if artifact == "stack" else artifact}},
                    "logicalLocations": [{"fullyQualifiedName": f.urn or f"stack {result.stack}", "kind": "resource"}],
                }],
                "partialFingerprints": {"policyUrn": f"{f.policy}|{f.urn or result.stack}|{f.message}"},
            })
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": PACK_NAME, "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                            "rules": rules}},
        "results": findings,
    }]}


def dump(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"
