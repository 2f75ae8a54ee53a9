# The README's two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SUITE ?= client
PYTEST_ARGS ?=

.PHONY: screenshots run test bootstrap bootstrap-run lint lint-imports typecheck pytest conformance conformance-extensions bench audits-check package test-package clean

run: bootstrap-run
	$(PY) -m mcp_auth_desktop --demo

bootstrap-run:
	@scripts/bootstrap.sh run

bootstrap:
	@scripts/bootstrap.sh test

# Quick checks first, then the official conformance suite, then pytest (its summary closes the run).
test: bootstrap
	@$(MAKE) --no-print-directory lint lint-imports typecheck audits-check
	@$(MAKE) --no-print-directory conformance
	@$(MAKE) --no-print-directory pytest

lint:
	$(VENV)/bin/ruff check mcp_auth_desktop mock_server netpolicy packaging tests bench audits

# The layers (gui, cli -> runtime -> storage -> core), app and mock server independent, no
# import circles: the contracts in pyproject.toml's [tool.importlinter].
lint-imports:
	$(VENV)/bin/lint-imports

# The test fakes are checked too: each implements a port of core/ports.py (and says so).
TYPED_FAKES := tests/gui/fakes.py tests/manager/fakes.py tests/core/_fakes.py

typecheck:
	$(VENV)/bin/mypy mcp_auth_desktop mock_server netpolicy $(TYPED_FAKES)

pytest:
	scripts/headless.sh $(PY) -m pytest $(PYTEST_ARGS)

# Client scenarios against our client, then the server and authorization-server scenarios
# against the mock (tests/conformance/server_run.py); both always run, and the target
# fails when either has a failure.
conformance: bootstrap
	@status=0; \
	$(PY) -m tests.conformance.run --suite $(SUITE) || status=1; \
	$(PY) -m tests.conformance.server_run || status=1; \
	exit $$status

# Extensions we do not implement yet (DPoP, client credentials, enterprise-managed
# authorization, workload identity, skills): reported, not part of `make test`.
conformance-extensions: bootstrap
	$(PY) -m tests.conformance.run --suite extensions --report-only

bench: bootstrap
	scripts/headless.sh $(PY) -m bench

screenshots: bootstrap
	MCP_AUTH_UPDATE_SCREENSHOTS=1 scripts/headless.sh $(PY) -m pytest tests/gui/test_screenshots.py -q

audits-check:
	$(PY) audits/check_citations.py

package: bootstrap-run
	$(VENV)/bin/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/mcp-auth-desktop.spec

test-package: package
	scripts/headless.sh dist/mcp-auth-desktop/mcp-auth-desktop --self-test

clean:
	rm -rf build dist .pytest_cache .mypy_cache
