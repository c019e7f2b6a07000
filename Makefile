# The two commands a newcomer needs:
#   make plan   set up .venv, install everything, plan every stack offline (writes plan/<stack>.json)
#               and end with every stack's policy verdict
#   make test   set up .venv if needed and run the test suite
#   make policy the policy gate over every stack (exit 1 on a mandatory violation)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup plan policy test bench drill clean

$(STAMP): requirements.txt constraints.txt infra/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# The plan ends with each stack's policy verdict (exit 4 on a mandatory violation).
plan: $(STAMP)
	$(BIN)/python -m infra.cli plan --all --out plan --policy

policy: $(STAMP)
	$(BIN)/python -m policies.cli check --all --sarif policy.sarif --json policy.json

# The suite runs PostgreSQL for real; scripts/test-services.sh installs it when absent.
test: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/python -m pytest

# The DR drill: six failure scenarios on an in-process AWS emulator seeded from the plan.
drill: $(STAMP)
	$(BIN)/python -m infra.cli drill

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_routing.py
	$(BIN)/python benchmarks/bench_policy.py

clean:
	rm -rf $(VENV) plan .pytest_cache policy.sarif policy.json
