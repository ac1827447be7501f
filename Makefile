# The two commands of the README: `make demo` and `make test`. Both set up what they need.
.PHONY: setup demo test lint bench-engine bench-actuator bench-bridge bench-drift clean-models train-detector evaluate-detector demo-backend bench-backend

setup:
	@bash scripts/setup_env.sh

demo: setup
	.venv/bin/inspection demo --quiet

test: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench-engine: setup
	.venv/bin/inspection bench engine --json out/bench/engine.json

bench-actuator: setup
	.venv/bin/inspection bench actuator --units 400 --json out/bench/actuator.json

bench-bridge: setup
	.venv/bin/inspection bench bridge --messages 5000 --outage-s 20 --json out/bench/bridge.json

# Stability index under drift (docs/stability.md): enroll each shared set once, then the bench.
DRIFT_SETS = mvtec_ad/bottle mpdd/metal_plate aws_lookout_cookies/cookies
DRIFT_DIR = out/bench/drift

bench-drift: setup
	@for set in $(DRIFT_SETS); do \
		name=$$(basename $$set); model=$(DRIFT_DIR)/models/$$name; \
		[ -f $$model/baseline.npz ] || .venv/bin/inspection enroll --data ../shared/data/$$set \
			--out $$model || exit 1; \
		rm -rf $(DRIFT_DIR)/versions/$$name; \
		.venv/bin/inspection bench drift --model $$model --data ../shared/data/$$set \
			--json $(DRIFT_DIR)/$$name.json --versions $(DRIFT_DIR)/versions/$$name || exit 1; \
	done

# DeepPCB detector (docs/detector.md): one command trains it, one evaluates it.
DETECTOR_MODE ?= template
DETECTOR_EPOCHS ?= 100
DETECTOR_DIR = models/detector/deeppcb_$(DETECTOR_MODE)

train-detector: setup
	.venv/bin/inspection train-detector --data ../shared/data/deeppcb --input-mode $(DETECTOR_MODE) \
		--epochs $(DETECTOR_EPOCHS) --out $(DETECTOR_DIR) --work-dir out/detector/work_$(DETECTOR_MODE)

evaluate-detector: setup
	.venv/bin/inspection evaluate-detector --model $(DETECTOR_DIR) --data ../shared/data/deeppcb \
		--json out/detector/eval_$(DETECTOR_MODE).json

clean-models:
	rm -rf models/*/ models/registry.json

# Plant backend (docs/backend.md): embedded PostgreSQL + mosquitto, a simulated cell, the fake
# MES/QMS; signs and releases by itself after BACKEND_DEMO_WAIT s (drop the flag to do it on the page).
BACKEND_DEMO_WAIT ?= 30

demo-backend: setup
	.venv/bin/inspection-backend demo --auto-release-after $(BACKEND_DEMO_WAIT)

bench-backend: setup
	.venv/bin/inspection-backend bench --rate 2000 --duration 60 --json out/bench/backend.json
