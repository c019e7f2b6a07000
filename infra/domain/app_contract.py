"""The stack outputs application teams consume, as a typed, versioned contract.

Every stack exports these keys (camelCase, as `pulumi stack output --json` prints them);
`AppContract` validates them and `load` reads either that command's output or a plan
file (`plan/<stack>.json` from `python -m infra.cli plan --all --out plan`), returning
the typed object or a `ContractError` naming each missing or wrongly typed field.

The JSON Schema generated from the model is committed as
`docs/app-contract.schema.json` (`python -m infra.domain.app_contract schema`); a test
regenerates it and compares. Versioning: `appContractVersion` is `MAJOR.MINOR`; a
minor version only adds fields (old readers keep working), a major version removes or
changes one, and `load` refuses a major version it does not know.

Unlike `infra/domain/contract.py` (what a later stack reads from an earlier one), this is the
promise to application teams, so it changes only deliberately.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from infra.domain.jsonfile import JsonFileError, read_json

APP_CONTRACT_VERSION = "1.0"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "app-contract.schema.json"
STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class ContractError(Exception):
    """The outputs do not satisfy the contract; one line per problem."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{source}: not a valid app contract (version {APP_CONTRACT_VERSION}):\n"
                         + "\n".join(f"  - {p}" for p in problems))


class AppContract(BaseModel):
    """What one region's stack promises its applications."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True,
                              title="HSE Digital app contract",
                              json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema",
                                                 "$id": "app-contract.schema.json",
                                                 "x-contract-version": APP_CONTRACT_VERSION})

    app_contract_version: str = Field(alias="appContractVersion", pattern=r"^1\.\d+$",
                                      description="MAJOR.MINOR of this contract; this reader knows major 1.")
    stack: str = Field(alias="stack", description="The stack (region) name, e.g. us-east.")
    aws_region: str = Field(alias="awsRegion", description="The AWS region, e.g. us-east-1.")
    role: Literal["primary", "secondary"] = Field(
        alias="role", description="The role the stack files give the region (the writer after a failover: "
                                  "/api/health/failover).")
    app_host: str = Field(alias="appHost", description="app.<domain>: the geolocation-routed application URL host.")
    regional_endpoint: str = Field(alias="regionalEndpoint",
                                   description="<stack>.<domain>: this region's endpoint, health-checked on /api/health.")
    cdn_domain: str = Field(alias="cdnDomain", description="Where browsers reach the CDN (empty with a custom CDN).")
    db_writer_endpoint: str = Field(alias="dbWriterEndpoint", description="The cluster's writer endpoint "
                                                                          "(migrations, administration).")
    db_reader_endpoint: str = Field(alias="dbReaderEndpoint", description="The cluster's reader endpoint.")
    db_proxy_endpoint: str = Field(alias="dbProxyEndpoint",
                                   description="The pool's read/write endpoint (works on a secondary after promotion).")
    db_proxy_read_only_endpoint: str = Field(alias="dbProxyReadOnlyEndpoint",
                                             description="The pool's read-only endpoint (empty on rds-postgres).")
    db_app_endpoint: str = Field(alias="dbAppEndpoint", description="Where this region's application connects.")
    db_port: int = Field(alias="dbPort", ge=1, le=65535, description="PostgreSQL port (5432).")
    db_secret_arn: str = Field(alias="dbSecretArn", pattern=r"^arn:aws:secretsmanager:",
                               description="This region's copy of the database credentials (Secrets Manager).")
    cache_configuration_endpoint: str = Field(alias="cacheConfigurationEndpoint",
                                              description="Redis cluster-mode configuration endpoint (TLS).")
    cache_port: int = Field(alias="cachePort", ge=1, le=65535, description="Redis port (6379).")
    cache_tenant_secret_arns: dict[str, str] = Field(
        alias="cacheTenantSecretArns", description="Tenant id -> the secret with its Redis user, password and prefix.")
    health_check_id: str = Field(alias="healthCheckId", description="The Route53 health check of this region.")
    routing_table_version: str = Field(alias="routingTableVersion", pattern=r"^[0-9a-f]{12}$",
                                       description="Version of the routing table resolver.region_resolver reads.")

    _stand_ins: tuple[str, ...] = PrivateAttr(default=())

    @property
    def stand_ins(self) -> tuple[str, ...]:
        """The outputs (by their key) whose value is only a plan's stand-in: known after deploy.
        Empty for real outputs (`pulumi stack output --json`)."""
        return self._stand_ins

    def known(self) -> dict[str, Any]:
        """The outputs whose values are real (every one for a deployed stack)."""
        return {k: v for k, v in self.model_dump(by_alias=True).items() if k not in self._stand_ins}


def _problems(error: ValidationError) -> list[str]:
    alias = {name: info.alias for name, info in AppContract.model_fields.items()}
    lines = []
    for item in error.errors():
        key = ".".join(alias.get(str(p), str(p)) if i == 0 else str(p) for i, p in enumerate(item["loc"]))
        if item["type"] == "missing":
            lines.append(f"output {key!r} is missing")
        else:
            lines.append(f"output {key!r}: {item['msg']} (got {item.get('input')!r})")
    return lines


def _stand_in_keys(outputs: dict[str, Any], stand_ins: set[str]) -> tuple[str, ...]:
    """Keys whose value is, or contains, one of a plan's stand-ins."""
    def made_up(value: Any) -> bool:
        if isinstance(value, str):
            return any(s in value for s in stand_ins if len(s) >= 8) or value in stand_ins
        if isinstance(value, dict):
            return any(made_up(v) for v in value.values())
        if isinstance(value, list):
            return any(made_up(v) for v in value)
        return False
    return tuple(sorted(k for k, v in outputs.items() if made_up(v)))


def _outputs_of(data: Any, source: str) -> dict[str, Any]:
    if isinstance(data, dict) and "deployment" in data:
        root = next((r for r in data["deployment"].get("resources", []) if r.get("type") == STACK_TYPE), None)
        if root is None:
            raise ContractError(source, ["a plan file without its stack resource (no outputs)"])
        outputs = root.get("outputs") or {}
        return {k: "[secret]" if isinstance(v, dict) and SECRET_SIG in v else v for k, v in outputs.items()}
    if isinstance(data, dict):
        return data
    raise ContractError(source, [f"expected a JSON object of stack outputs, got {type(data).__name__}"])


def parse(outputs: dict[str, Any], source: str = "outputs") -> AppContract:
    version = str(outputs.get("appContractVersion", ""))
    if version and not version.startswith("1."):
        raise ContractError(source, [f"output 'appContractVersion' is {version}; this reader knows 1.x: "
                                     "upgrade the reader (a new major version changed the contract)"])
    try:
        return AppContract.model_validate(outputs)
    except ValidationError as exc:
        raise ContractError(source, _problems(exc)) from None


def load(path: Path) -> AppContract:
    """From `pulumi stack output --json > FILE` or a plan file."""
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise ContractError(str(path), [f"cannot read it ({exc.reason})" if exc.unreadable
                                        else f"not JSON ({exc.reason})"]) from None
    outputs = _outputs_of(data, str(path))
    contract = parse(outputs, str(path))
    if isinstance(data, dict) and "deployment" in data:
        # A plan file: its endpoints, ids and ARNs are the offline engine's stand-ins.
        contract._stand_ins = _stand_in_keys(outputs, set(data["deployment"].get("standIns") or ()))
    return contract


def schema() -> dict[str, Any]:
    return AppContract.model_json_schema(by_alias=True, mode="serialization")


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """`schema` prints the JSON Schema; `check FILE...` validates outputs or plan files."""
    if argv[:1] == ["schema"] and len(argv) == 1:
        sys.stdout.write(schema_text())
        return 0
    if argv[:1] == ["check"] and len(argv) > 1:
        failed = 0
        for name in argv[1:]:
            try:
                contract = load(Path(name))
            except ContractError as exc:
                sys.stderr.write(f"error: {exc}\n")
                failed += 1
            else:
                sys.stdout.write(f"{name}: valid app contract {contract.app_contract_version} "
                                 f"({contract.stack}, {contract.role})\n")
                if contract.stand_ins:
                    sys.stdout.write(f"  known after deploy (the plan's stand-ins): {', '.join(contract.stand_ins)}\n")
        return 1 if failed else 0
    sys.stderr.write("usage: python -m infra.domain.app_contract schema | check FILE...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
