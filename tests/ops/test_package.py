"""The Lambda package: exactly the files the handler imports, enough to import it alone,
and a permission for every AWS call in them (and a call for every permission)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import botocore.session
from botocore import xform_name

from infra.domain.failover_package import lambda_files
from infra.domain.failover_permissions import CALLS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("rds", "elasticache", "eks", "route53", "cloudwatch", "sns", "dynamodb", "sqs", "ec2")


def test_the_package_lists_the_handler_and_its_imports_only():
    files = lambda_files(ROOT)
    assert "functions/failover/handler.py" in files
    assert "infra/ops/failover.py" in files and "infra/domain/topology.py" in files
    # Nothing the function does not run: no drill, no deployment, no engine, no program.
    assert not [f for f in files if re.search(r"drill|rollout|seed|engine|program|commands|emulation", f)]
    assert all(path.exists() for path in files.values())


def test_the_package_imports_on_its_own(tmp_path):
    for relative, path in lambda_files(ROOT).items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tmp_path / relative)
    result = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '.'); "
                             "import functions.failover.handler as h; print(h.lambda_handler.__name__)"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "lambda_handler"), result.stderr


def test_every_call_has_its_permission_and_every_permission_its_call():
    session = botocore.session.get_session()
    operations = {xform_name(op) for s in SERVICES for op in session.get_service_model(s).operation_names}
    source = "\n".join(p.read_text() for p in lambda_files(ROOT).values())
    called = {name for name in re.findall(r"\.([a-z_]+)\(", source) if name in operations}
    # `publish`, `query`, `scan` are unambiguous here; the state store's own `put`/`get` are not AWS calls.
    assert called == set(CALLS)
