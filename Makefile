# The two commands a newcomer needs:
#   make plan   set up .venv, install everything, plan every stack offline (writes plan/<stack>.json)
#               and end with every stack's policy verdict
#   make test   set up .venv if needed and run the test suite
#   make policy the policy gate over every stack (exit 4 on a mandatory violation)
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup plan policy test bench drill drill-local image-package clean

# Some machines set PYTHONDONTWRITEBYTECODE; the pulumi-aws modules would then compile
# from source on every run (seconds each time). Bytecode goes to __pycache__ (ignored by git).
unexport PYTHONDONTWRITEBYTECODE

# uv installs the pinned set in seconds where pip takes minutes; pip remains the fallback.
$(STAMP): requirements.txt constraints.txt infra/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python -r infra/requirements.txt \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# The plan ends with each stack's policy verdict (exit 4 on a mandatory violation).
plan: $(STAMP)
	$(BIN)/python -m infra.cli plan --all --out plan --policy

policy: $(STAMP)
	$(BIN)/python -m policies.cli check --all --sarif policy.sarif --json policy.json

# The suite runs PostgreSQL for real; scripts/test-services.sh installs it when absent.
# One worker per core, each its own session (its own servers and one evaluation per stack);
# a file's tests stay on one worker, so module-scoped plans are made once.
test: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/python -m pytest -n auto --dist loadfile

# The DR drill: six failure scenarios on an in-process AWS emulator seeded from the plan.
drill: $(STAMP)
	$(BIN)/python -m infra.cli drill

# The DR drill on real servers: per region PostgreSQL (streaming replication), PgBouncer,
# redis-server and the reference app on loopback, six scenarios under load, RTO and RPO measured,
# drill.json written, every server stopped; exit 4 when a promise did not hold. The drill clock
# (x60) shortens the 5 minutes of health before failback, the holds and the TTLs, nothing else.
drill-local: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/python -m infra.cli drill --local --clock-scale 60 --json drill.json

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_routing.py
	$(BIN)/python benchmarks/bench_policy.py
	$(BIN)/python benchmarks/bench_images.py
	bash scripts/test-services.sh
	$(BIN)/python benchmarks/bench_drill_local.py

# Pillow for the CloudFront image function, built for Lambda@Edge (python3.12, x86_64; it takes
# no layers, so Pillow travels in the function's package). `pulumi up` with CloudFront and
# image optimization on needs it; the offline plan records it by name only.
image-package: $(STAMP)
	rm -rf build/image-transform
	$(BIN)/uv pip install --quiet --target build/image-transform --python-platform x86_64-manylinux_2_28 \
	  --python-version 3.12 --only-binary :all: --no-deps \
	  "$$(grep -i '^pillow==' requirements.txt)"

clean:
	rm -rf $(VENV) plan .pytest_cache policy.sarif policy.json
