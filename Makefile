# Two commands for a newcomer:  `make demo` (set up, score sample records) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test check lint bench fuzz clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/policyc check policies/taobao_aftersales.policy
	$(BIN)/policyc score policies/taobao_aftersales.policy policies/samples/taobao_aftersales.csv --format table

test: setup
	$(BIN)/pytest

check: setup
	$(BIN)/policyc check --deny-warnings policies/
	$(BIN)/policyc test --min-coverage 100 policies/
	$(BIN)/policyc fmt --check policies/

lint: setup
	$(BIN)/ruff check src tests bench

bench: setup
	$(BIN)/python bench/bench_per_record.py

clean:
	rm -rf $(VENV) build dist .pytest_cache

.PHONY: bench-check
bench-check: setup
	$(BIN)/python bench/bench_check.py

# Rebuild the parser tables shipped in the package after changing grammar/policy.lark
# (tests/test_parser.py fails until they match the grammar).
.PHONY: parser-tables
parser-tables: setup
	$(BIN)/python -c "from policyc.parser import write_tables; write_tables()"
