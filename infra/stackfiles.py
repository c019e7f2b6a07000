"""Reading the project file and the stack files the way the Pulumi CLI hands them to a program.

The CLI passes every config value to the program as a string: scalars as their text,
lists and maps as JSON. Project-level `default:` and `value:` entries in `Pulumi.yaml`
apply to every stack unless the stack file sets the key. The offline engine and the
cross-stack checks both read stack files through this module, so they see what
`pulumi up` would see.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = "Pulumi.yaml"


class StackFileError(Exception):
    """A project or stack file that cannot be read as Pulumi config."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@dataclass(frozen=True)
class StackFile:
    """One `Pulumi.<stack>.yaml`, as the CLI would pass it to the program."""

    stack: str
    path: Path
    config: dict[str, str]
    secret_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def file_name(self) -> str:
        return self.path.name


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


# libyaml's parser where the wheel has it: stack files are read once per stack and plan.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=_Loader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StackFileError(path.name, f"cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise StackFileError(path.name, "expected a YAML mapping at the top level")
    return data


class Project:
    """The project directory: `Pulumi.yaml` and its stack files, each read once."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._stack_files: dict[str, StackFile] = {}

    @functools.cached_property
    def definition(self) -> dict[str, Any]:
        return _load_yaml(self.directory / PROJECT_FILE)

    @functools.cached_property
    def name(self) -> str:
        return str(self.definition["name"])

    @functools.cached_property
    def _declared(self) -> dict[str, dict[str, Any]]:
        section = self.definition.get("config") or {}
        return {_qualify(k, self.name): (v if isinstance(v, dict) else {"value": v})
                for k, v in section.items()}

    def declared_config(self) -> dict[str, dict[str, Any]]:
        """The `config:` section of Pulumi.yaml, keys fully qualified."""
        return dict(self._declared)

    def stack_names(self) -> list[str]:
        prefix, suffix = "Pulumi.", ".yaml"
        return sorted(p.name[len(prefix):-len(suffix)]
                      for p in self.directory.glob("Pulumi.*.yaml"))

    def stack_path(self, stack: str) -> Path:
        return self.directory / f"Pulumi.{stack}.yaml"

    def stack_file(self, stack: str) -> StackFile:
        """The merged config of one stack: project values and defaults, then the stack file."""
        if stack not in self._stack_files:
            self._stack_files[stack] = self._read_stack_file(stack)
        return self._stack_files[stack]

    def _read_stack_file(self, stack: str) -> StackFile:
        path = self.stack_path(stack)
        if not path.exists():
            known = ", ".join(self.stack_names()) or "none"
            raise StackFileError(path.name, f"no such stack file (stacks in this project: {known})")
        project = self.name
        config: dict[str, str] = {}
        secret_keys: set[str] = set()
        for key, decl in self.declared_config().items():
            if "value" in decl:
                config[key] = _as_config_string(decl["value"])
            elif "default" in decl:
                config[key] = _as_config_string(decl["default"])
        raw = _load_yaml(path).get("config") or {}
        if not isinstance(raw, dict):
            raise StackFileError(path.name, "'config' must be a mapping of keys to values")
        for key, value in raw.items():
            qualified = _qualify(str(key), project)
            if isinstance(value, dict) and set(value) == {"secure"}:
                # Encrypted with the stack's secrets provider; offline there is no key to
                # decrypt it, so a marked stand-in value is used and kept secret.
                config[qualified] = f"offline-secret:{qualified}"
                secret_keys.add(qualified)
            else:
                config[qualified] = _as_config_string(value)
        return StackFile(stack=stack, path=path, config=config, secret_keys=frozenset(secret_keys))
