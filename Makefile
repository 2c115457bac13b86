# Two commands do everything on a fresh machine:
#   make demo   set up, build the student notebooks, grade the bundled sample class
#   make test   set up, run the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system system-browser build solutions lint bench clean

# torch first, alone, the CPU build: from the default index torch on Linux is the CUDA build (about
# 19 nvidia-*/triton packages, several GB). A machine whose pip is configured with a local CPU wheel
# (find-links, as the kit's build machine and CI have) installs that one without asking any index
# (--no-index fails at once where there is none); elsewhere it comes from PyTorch's CPU index.
# TORCH_INDEX= (empty) takes the first torch the configured indexes offer.
TORCH := $(shell sed -n 's/^torch==//p' requirements-grading.lock)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

$(STAMP): requirements-grading.lock requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-deps --no-index torch==$(TORCH) 2>/dev/null || \
	  $(BIN)/pip install -q --no-deps $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==$(TORCH)
	$(BIN)/pip install -q -r requirements-dev.lock
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
