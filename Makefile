# The two commands of the README: `make demo` and `make test`. Both set up what they need.
.PHONY: setup demo test lint bench-engine bench-actuator bench-bridge clean-models

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

clean-models:
	rm -rf models/*/ models/registry.json
