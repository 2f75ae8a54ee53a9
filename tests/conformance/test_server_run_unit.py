"""Unit tests of the server/authorization conformance runner's own logic (no Node needed)."""

from __future__ import annotations

from tests.conformance import server_run
from tests.conformance.run import summarize


def test_list_lines_are_parsed_with_their_revisions() -> None:
    assert server_run._LISTED.match("  - server-stateless [2026-07-28]").groups() == ("server-stateless", "2026-07-28")
    assert server_run._LISTED.match("  - tasks-lifecycle [extension]").groups() == ("tasks-lifecycle", "extension")
    assert server_run._LISTED.match("Server scenarios (test against a server):") is None


def test_a_scenario_the_suite_skips_entirely_is_neither_passed_nor_failed() -> None:
    skipped = [{"status": "SKIPPED", "name": "X", "errorMessage": "harness not written"}]
    outcome = summarize("tasks-status-notifications", skipped, 0)
    assert not outcome.passed
    assert server_run.skipped_by_the_suite(outcome, skipped)
    mixed = [*skipped, {"status": "WARNING", "name": "Y"}]
    assert not server_run.skipped_by_the_suite(summarize("s", mixed, 0), mixed)
    crashed = summarize("s", skipped, 1)
    assert not server_run.skipped_by_the_suite(crashed, skipped)
    assert not server_run.skipped_by_the_suite(summarize("s", [], 0), [])
