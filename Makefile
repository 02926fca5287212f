# The two commands: `make demo` and `make test` (each sets the machine up first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHELL := /bin/bash
SNAKEMAKE := env HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE $(BIN)/snakemake

.PHONY: setup demo demo-multilabel demo-sensor demo-video test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev,slurm]"
	touch $@

demo: setup
	$(BIN)/python -m foldwise.demo digits data/digits
	time $(SNAKEMAKE) --cores all --resources gpu=1
	$(SNAKEMAKE) --report results/report.html
	$(BIN)/python -m foldwise.demo report results

# The other demos run in their own directories under runs/ (results/ there).
demo-multilabel: setup
	$(BIN)/python -m foldwise.demo multilabel-digits runs/multilabel/data/multilabel_digits
	time $(SNAKEMAKE) --cores all --resources gpu=1 --directory runs/multilabel --configfile configs/multilabel_digits.yaml
	$(SNAKEMAKE) --directory runs/multilabel --configfile configs/multilabel_digits.yaml --report results/report.html
	$(BIN)/python -m foldwise.demo report runs/multilabel/results

demo-sensor: setup
	$(BIN)/python -m foldwise.demo basicmotions runs/sensor/data/basicmotions
	time $(SNAKEMAKE) --cores all --resources gpu=1 --directory runs/sensor --configfile configs/basicmotions.yaml
	$(SNAKEMAKE) --directory runs/sensor --configfile configs/basicmotions.yaml --report results/report.html
	$(BIN)/python -m foldwise.demo report runs/sensor/results

demo-video: setup
	$(BIN)/python -m foldwise.demo video-digits runs/video/data/video_digits
	time $(SNAKEMAKE) --cores all --resources gpu=1 --directory runs/video --configfile configs/video_digits.yaml
	$(SNAKEMAKE) --directory runs/video --configfile configs/video_digits.yaml --report results/report.html
	$(BIN)/python -m foldwise.demo report runs/video/results

test: setup
	$(BIN)/python -m pytest -q

# The config's data must exist to plan (and lint): the demo's folder is made once.
data/digits: | setup
	$(BIN)/python -m foldwise.demo digits data/digits

lint: setup data/digits
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check .

# The benchmark suite: measures every performance figure and rewrites BENCHMARKS.md (~10 min on 2 cores).
.PHONY: bench
bench: setup
	PYTHONPATH=. HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m benchmarks

clean:
	rm -rf results logs .snakemake runs
