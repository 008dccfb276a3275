# The two commands: `make run` (set up if needed, start the whole stack) and `make test`.
.PHONY: setup run test eval bench clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/python -m kefu run

test:
	@bash scripts/setup.sh --browser
	.venv/bin/python -m pytest -ra $(PYTEST_ARGS)

eval: setup
	.venv/bin/python -m kefu eval --cases ../shared/eval/dev-cases.jsonl

clean:
	rm -rf models .kefu
