# Two commands do everything on a fresh machine:
#   make demo   set up, build the student notebooks, grade the bundled sample class
#   make test   set up, run the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system system-browser build solutions lint bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

system:
	@scripts/install-system-packages.sh

system-browser:
	@scripts/install-system-packages.sh --browser

build: setup
	$(BIN)/dlbasics build

solutions: setup
	$(BIN)/dlbasics run-solutions

demo: setup system
	$(BIN)/dlbasics build --check
	@for folder in samples/*/; do a=$$(basename $$folder); \
	  $(BIN)/dlbasics grade $$a $$folder --out out/demo/$$a || exit 1; done

test: setup system-browser
	$(BIN)/ruff check autograder tests bench scripts solutions
	$(BIN)/dlbasics build --check
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check autograder tests bench scripts solutions

bench: setup system
	$(BIN)/python bench/grade_speed.py

clean:
	rm -rf $(VENV) out build *.egg-info
