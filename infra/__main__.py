"""Pulumi's entry point (`main: infra/` in Pulumi.yaml): run the program for the selected stack."""

import sys
from pathlib import Path

# Pulumi runs this directory as a script; make the project root importable so that
# `infra` and `components` resolve as packages.
# Its own folder comes off the path, so `infra/config/` can never shadow a top-level module.
PROGRAM_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PROGRAM_DIR.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != PROGRAM_DIR]
sys.path.insert(0, str(PROJECT_DIR))

import pulumi  # noqa: E402

from infra.domain.problems import ConfigError  # noqa: E402
from infra.program import main  # noqa: E402

try:
    main(PROJECT_DIR)
except ConfigError as exc:
    raise pulumi.RunError(str(exc)) from None
