# The two commands: `make run` (set up if needed, start the whole stack) and `make test`.
.PHONY: setup run test lint eval bench clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/python -m kefu run

# One pytest worker per core (each with its own Redis and live stack; a module's tests stay together): most
# tests wait on Rasa, sockets and browsers, so two workers halve the suite's time on a 2-core machine.
PYTEST_WORKERS ?= auto

test:
	@bash scripts/setup.sh --browser
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -ra -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check .

eval: setup
	.venv/bin/python -m kefu eval --cases ../shared/eval/dev-cases.jsonl

# Each bench starts its own stack (free ports, a Redis server of its own) and takes minutes.
bench: setup
	.venv/bin/python -m bench wechat
	.venv/bin/python -m bench handoff

clean:
	rm -rf models .kefu
