"""Reading the project file and the stack files the way the Pulumi CLI hands them to a program.

The CLI passes every config value to the program as a string: scalars as their text,
lists and maps as JSON. Project-level `default:` and `value:` entries in `Pulumi.yaml`
apply to every stack unless the stack file sets the key. Before the program runs, the
CLI also checks the stack's config against the project's declarations (`cli_problems`):
a declared key must be set somewhere, a value must have its declared type, and a
declaration outside the project's namespace must carry a `value:`. The offline engine
and the cross-stack checks both read stack files through this module, so they see, and
reject, what `pulumi up` would.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.domain.problems import Problem

PROJECT_FILE = "Pulumi.yaml"
# Types a project may declare for a config key, as the CLI names them.
CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")


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
    """Every key the program sees (project values and defaults, then the stack file), as strings."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    """Keys the stack file holds encrypted (`secure:`)."""
    values: dict[str, Any] = field(default_factory=dict)
    """The stack file's own `config:` entries, keys qualified, values as YAML typed them."""

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


def qualify(key: str, project: str) -> str:
    """`natGatewayCount` -> `hse:natGatewayCount`: a key without a namespace is the project's."""
    return key if ":" in key else f"{project}:{key}"


# libyaml's parser where the wheel has it: stack files are read once per stack and plan.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that refuses a mapping with the same key twice (YAML says keys are
    unique; PyYAML would silently keep the last one, hiding the first value)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (lines {seen[key]} and {line}); each key may appear once", None)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise StackFileError(path.name, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader) or {}
    except yaml.MarkedYAMLError as exc:
        where = f" (line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1})" if exc.problem_mark else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise StackFileError(path.name, f"cannot be read as YAML: {what}{where}") from exc
    except yaml.YAMLError as exc:
        raise StackFileError(path.name, f"cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise StackFileError(path.name, "expected a YAML mapping at the top level")
    return data


def _type_of(value: Any) -> str:
    """The CLI's name for the type of a config value as YAML typed it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, float):
        return "float"
    return "string"


def _full_type(decl: dict[str, Any]) -> str:
    """`array<string>` for an array of strings, else the declared type."""
    if decl.get("type") == "array" and isinstance(decl.get("items"), dict):
        return f"array<{_full_type(decl['items'])}>"
    return str(decl.get("type"))


def _cli_text(value: Any) -> str:
    """A scalar as the CLI stores it from a stack file: as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_integer_text(text: str) -> bool:
    try:
        int(text, 10)  # Go's strconv.Atoi: an optional sign and decimal digits
    except ValueError:
        return False
    return text.strip() == text


def _has_type(value: Any, decl: dict[str, Any], element: bool = False) -> bool:
    """Whether `value` satisfies the declaration, as the CLI's `ValidateConfigValue` decides.

    A stack file's scalars reach the check as text (so `0` and `"0"` are both integers);
    an array's elements as JSON values (so `[1, 2]` is not an array of strings).
    """
    expected = decl.get("type")
    if expected == "array":
        items = decl.get("items") or {}
        return isinstance(value, list) and all(_has_type(v, items, element=True) for v in value)
    if expected == "object":
        return isinstance(value, dict)
    if isinstance(value, (list, dict)):
        return False
    if element:
        if expected == "string":
            return isinstance(value, str)
        if expected == "integer":
            return (isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()) \
                or (isinstance(value, str) and _is_integer_text(value))
        if expected == "boolean":
            return isinstance(value, bool) or value in ("true", "false")
        return True
    text = _cli_text(value)
    if expected == "integer":
        return _is_integer_text(text)
    if expected == "boolean":
        return text in ("true", "false")
    return True


class Project:
    """The project directory: `Pulumi.yaml` and its stack files, each read once."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._stack_files: dict[str, StackFile] = {}

    @functools.cached_property
    def definition(self) -> dict[str, Any]:
        path = self.directory / PROJECT_FILE
        if not path.is_file():
            raise StackFileError(PROJECT_FILE, f"not found in {self.directory}; run from the repository root "
                                               "or pass --project with the folder that holds Pulumi.yaml")
        return _load_yaml(path)

    @functools.cached_property
    def name(self) -> str:
        name = self.definition.get("name")
        if not isinstance(name, str) or not name:
            raise StackFileError(PROJECT_FILE, "has no 'name:'; the project name is also its config namespace")
        return name

    @functools.cached_property
    def _declared(self) -> dict[str, dict[str, Any]]:
        section = self.definition.get("config") or {}
        if not isinstance(section, dict):
            raise StackFileError(PROJECT_FILE, "'config' must be a mapping of keys to declarations")
        return {qualify(str(k), self.name): (v if isinstance(v, dict) else {"value": v})
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
        values: dict[str, Any] = {}
        for key, value in raw.items():
            qualified = qualify(str(key), project)
            values[qualified] = value
            if isinstance(value, dict) and set(value) == {"secure"}:
                # Encrypted with the stack's secrets provider; offline there is no key to
                # decrypt it, so a marked stand-in value is used and kept secret.
                config[qualified] = f"offline-secret:{qualified}"
                secret_keys.add(qualified)
            else:
                config[qualified] = _as_config_string(value)
        return StackFile(stack=stack, path=path, config=config, secret_keys=frozenset(secret_keys), values=values)

    # -- the CLI's checks before the program runs ---------------------------------------
    def declaration_problems(self) -> list[Problem]:
        """What the CLI rejects in Pulumi.yaml's `config:` section itself, for every stack."""
        project = self.name  # a project file without a name stops here, like the CLI
        problems = []
        for key, decl in self.declared_config().items():
            def bad(kind: str, **facts: Any) -> None:
                problems.append(Problem(PROJECT_FILE, key, cli_message(kind, key=key, **facts)))

            if "default" in decl and "value" in decl:
                bad("default_and_value")
            if not key.startswith(f"{project}:"):
                if "type" in decl:
                    bad("foreign_typed")
                if "default" in decl:
                    bad("foreign_default")
                elif "value" not in decl:
                    bad("foreign_without_value")
                continue
            if "type" in decl and decl["type"] not in CONFIG_TYPES:
                bad("bad_type", type=decl["type"])
            if decl.get("type") == "array" and not isinstance(decl.get("items"), dict):
                bad("array_without_items")
            elif "default" in decl and "type" in decl and not _has_type(decl["default"], decl):
                bad("default_type", type=_full_type(decl))
        return problems

    def cli_problems(self, stack: str) -> list[Problem]:
        """What `pulumi up --stack <stack>` would stop on before running the program."""
        problems = self.declaration_problems()
        stack_file = self.stack_file(stack)
        for key, decl in sorted(self.declared_config().items()):
            if not key.startswith(f"{self.name}:"):
                continue
            if key in stack_file.values:
                value = stack_file.values[key]
            elif "value" in decl:
                value = decl["value"]
            elif "default" in decl:
                value = decl["default"]
            else:
                problems.append(Problem(stack_file.file_name, key, cli_message(
                    "missing", stack=stack, key=key, description=decl.get("description"))))
                continue
            if "type" not in decl:
                continue  # the CLI checks only explicitly typed keys
            if decl.get("secret") and key not in stack_file.secret_keys:
                problems.append(Problem(stack_file.file_name, key, cli_message("not_encrypted", stack=stack, key=key)))
            elif key not in stack_file.secret_keys and not _has_type(value, decl):
                problems.append(Problem(stack_file.file_name, key, cli_message(
                    "stack_type", stack=stack, key=key, type=_full_type(decl), got=f"{_type_of(value)} {value!r}")))
        return problems


def cli_message(kind: str, **facts: Any) -> str:
    """The CLI's own wording for a project-config problem, then where to fix it."""
    key, stack = facts.get("key"), facts.get("stack")
    if kind == "missing":
        valid = f"; valid: {facts['description']}" if facts.get("description") else ""
        return (f"Stack '{stack}' is missing configuration value '{key}' (the CLI stops before the program runs); "
                f"set it with `pulumi config set {key} <value>` or give it a default: in {PROJECT_FILE}{valid}")
    if kind == "stack_type":
        return (f"Stack '{stack}' with configuration key '{key}' must be of type '{facts['type']}' "
                f"(the stack file holds a {facts['got']})")
    if kind == "not_encrypted":
        return (f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret; "
                f"set it with `pulumi config set --secret {key}`")
    messages = {
        "default_and_value": f"project config '{key}' cannot have both a 'default' and 'value' attribute",
        "foreign_typed": f"Configuration key '{key}' is not namespaced by the project and should not define a type",
        "foreign_default": (f"Configuration key '{key}' is not namespaced by the project and should not define a "
                            "default value. Did you mean to use the 'value' attribute instead of 'default'?"),
        "foreign_without_value": f"Configuration key '{key}' is namespaced and must provide an attribute 'value'",
        "bad_type": f"config type '{facts.get('type')}' is not one of {', '.join(CONFIG_TYPES)}",
        "array_without_items": (f"The configuration key '{key}' declares an array but does not specify the "
                                "underlying type via the 'items' attribute"),
        "default_type": (f"The default value specified for configuration key '{key}' is not of the expected "
                         f"type '{facts.get('type')}'"),
    }
    return messages[kind]
