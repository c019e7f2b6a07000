"""Exactly the files a Lambda function needs, found by following its imports.

Starting at the handler (`functions/failover/handler.py` unless another is named), every `import infra...`/`from infra...`
(and `functions...`) is followed to its file; the standard library and boto3 (part of
the Lambda runtime) are not packaged; third-party libraries (Pillow for the image
function) come from their own build step. The program builds the function's code from this
list: `pulumi.AssetArchive({path: pulumi.FileAsset(file) for path, file in lambda_files(root).items()})`.
"""

from __future__ import annotations

import ast
from pathlib import Path

HANDLER = "functions/failover/handler.py"
HANDLER_NAME = "functions.failover.handler.lambda_handler"
LOCAL_PACKAGES = ("infra", "functions")


def _module_file(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {m for m in found if m.split(".")[0] in LOCAL_PACKAGES}


def lambda_files(root: Path, handler: str = HANDLER) -> dict[str, Path]:
    """Archive path -> file, for the handler and everything it imports from this repository."""
    root = root.resolve()
    files: dict[str, Path] = {}
    pending = [root / handler]
    while pending:
        path = pending.pop()
        relative = path.relative_to(root).as_posix()
        if relative in files:
            continue
        files[relative] = path
        parts = Path(relative).parent.parts
        for i in range(1, len(parts) + 1):  # every package on the way down
            init = root.joinpath(*parts[:i], "__init__.py")
            if init.exists() and init.relative_to(root).as_posix() not in files:
                pending.append(init)
        for module in _imports(path):
            candidate = _module_file(root, module)
            if candidate.exists():
                pending.append(candidate)
    return dict(sorted(files.items()))


def sources(root: Path, entry: str) -> dict[str, str]:
    """Package path -> source text of `entry` and what it imports (the capacity reconciler's ConfigMap)."""
    return {path: file.read_text() for path, file in lambda_files(root, entry).items()}
