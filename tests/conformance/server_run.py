"""Run the official MCP conformance suite's SERVER and AUTHORIZATION-SERVER checks against
the mock (``python -m mock_server``), one scenario at a time.

    python -m tests.conformance.server_run                 # every set below
    python -m tests.conformance.server_run --set server --scenario server-stateless -v
    python -m tests.conformance.server_run --list

Sets:
* ``server``: every server scenario of the installed package, each at the revision the
  suite picks for it (2025-11-25 for handshake-era scenarios, 2026-07-28 for the new ones
  and the extensions), against one mock started with ``--no-auth`` (the suite sends no token;
  the bearer check has its own tests in tests/mock);
* ``server-2026-07-28``: the non-extension scenarios that apply at 2026-07-28, run again
  with ``--spec-version 2026-07-28``, so tools, resources and prompts are also checked on the
  stateless protocol;
* ``authorization``: the authorization-server scenarios against the mock's AS (with
  ``--auto-approve`` and a pre-registered public client whose redirect URI is the suite's
  callback); this runner plays the user agent: it opens the authorization URL the suite
  prints and delivers the redirect to the suite's callback.

A scenario passes when the CLI exits 0 and its checks hold no FAILURE and no WARNING (the
client runner's rule). One line per scenario, a total per set; exit status 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conformance.run import CLI, ROOT, Outcome, check_installed, node, node_env, summarize

SCENARIO_TIMEOUT_MS = 30_000
SKIPPED: set[str] = set()
"""Scenarios whose every check the suite itself skipped in this run."""
MODERN = "2026-07-28"
_LISTED = re.compile(r"^\s+- (\S+)(?: \[([^\]]*)\])?\s*$")


def listed(kind: str, spec_version: str | None = None) -> list[tuple[str, list[str]]]:
    """(scenario, revisions or ["extension"]) for ``list --server`` / ``list --authorization``."""
    cmd = [node(), str(CLI), "list", f"--{kind}"]
    if spec_version:
        cmd += ["--spec-version", spec_version]
    out = subprocess.run(cmd, capture_output=True, text=True, env=node_env(), timeout=60, check=True).stdout
    found = []
    for line in out.splitlines():
        match = _LISTED.match(line)
        if match:
            found.append((match.group(1), [v.strip() for v in (match.group(2) or "").split(",") if v.strip()]))
    return found


def server_sets() -> dict[str, list[str]]:
    every = [name for name, _ in listed("server")]
    modern = [name for name, versions in listed("server", MODERN) if "extension" not in versions]
    return {"server": every, f"server-{MODERN}": modern, "authorization": [n for n, _ in listed("authorization")]}


class MockServer:
    """``python -m mock_server`` on a free port; ``url`` is its MCP URL."""

    def __init__(self, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--port", "0", *flags],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            self.stop()
            raise SystemExit(f"the mock server did not start (printed {line!r})")
        self.url = line
        self.base = line.rsplit("/", 1)[0]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def skipped_by_the_suite(outcome: Outcome, checks: Sequence[dict[str, object]]) -> bool:
    """The suite itself skips every check (e.g. tasks-status-notifications, whose harness is
    not written yet): reported as SKIP, neither passed nor failed."""
    return (outcome.exit_code == 0 and bool(checks) and outcome.failures == 0 and outcome.warnings == 0
            and all(c.get("status") == "SKIPPED" for c in checks))


def _collect(results: str, exit_code: int | None, scenario: str, output: str, started: float) -> Outcome:
    checks: list[dict[str, object]] = []
    for path in Path(results).rglob("checks.json"):
        checks.extend(json.loads(path.read_text(encoding="utf-8")))
    outcome = summarize(scenario, checks, exit_code)
    if skipped_by_the_suite(outcome, checks):
        SKIPPED.add(scenario)
        outcome.problems = [f"SKIPPED by the suite: {checks[0].get('errorMessage')}"]
    if exit_code is None:
        outcome.passed = False
        outcome.problems.append("the scenario did not finish in time")
    outcome.seconds = time.monotonic() - started
    outcome.output = output
    return outcome


def run_server_scenario(url: str, scenario: str, spec_version: str | None) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="conformance-server-") as results:
        cmd = [node(), str(CLI), "server", "--url", url, "--scenario", scenario,
               "--timeout", str(SCENARIO_TIMEOUT_MS), "-o", results]
        if spec_version:
            cmd += ["--spec-version", spec_version]
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=node_env(), capture_output=True, text=True,
                                  timeout=SCENARIO_TIMEOUT_MS / 1000 + 60)
            exit_code: int | None = proc.returncode
            output = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            exit_code, output = None, "(timed out)"
        return _collect(results, exit_code, scenario, output, started)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_authorization(scenarios: Sequence[str]) -> list[Outcome]:
    """Both AS scenarios in one CLI run (the code grant reuses the metadata the first one read)."""
    started = time.monotonic()
    port = _free_port()
    client_id = "conformance-authorization-check"
    with tempfile.TemporaryDirectory(prefix="conformance-as-") as tmp:
        clients = Path(tmp) / "clients.json"
        clients.write_text(json.dumps([{
            "client_id": client_id, "client_name": "MCP conformance suite", "application_type": "native",
            "redirect_uris": [f"http://127.0.0.1:{port}/callback"], "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"], "response_types": ["code"], "scope": "mcp:read",
        }]))
        server = MockServer("--auto-approve", "--clients-file", str(clients))
        results = Path(tmp) / "results"
        try:
            cmd = [node(), str(CLI), "authorization", "--url", server.base, "--client-id", client_id,
                   "--resource", server.url, "--port", str(port), "-o", str(results)]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=node_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            lines: list[str] = []
            deadline = time.monotonic() + 60
            for line in proc.stdout:
                lines.append(line)
                if line.startswith(server.base) and "/authorize?" in line:
                    _play_user_agent(line.strip())
                if time.monotonic() > deadline:
                    proc.kill()
                    break
            exit_code: int | None = proc.wait(30)
        finally:
            server.stop()
        output = "".join(lines)
        outcomes = []
        for scenario in scenarios:
            scenario_dir = [p for p in results.glob(f"*{scenario}*") if p.is_dir()]
            with tempfile.TemporaryDirectory() as one:
                for d in scenario_dir:
                    target = Path(one) / d.name
                    target.mkdir()
                    for f in d.glob("checks.json"):
                        (target / f.name).write_text(f.read_text())
                outcomes.append(_collect(one, exit_code, scenario, output, started))
        return outcomes


def _play_user_agent(authorization_url: str) -> None:
    """What a browser does with --auto-approve: GET the authorization URL, follow its redirect."""
    with httpx.Client(timeout=20, follow_redirects=False) as http:
        response = http.get(authorization_url)
        location = response.headers.get("location")
        if response.status_code in (302, 303) and location:
            http.get(location)


def run_set(name: str, scenarios: Sequence[str], runner: Callable[[str], Outcome], jobs: int,
            verbose: bool) -> tuple[int, int]:
    print(f"== {name}: {len(scenarios)} scenarios, single-scenario mode, {jobs} at a time", flush=True)
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for outcome in pool.map(runner, scenarios):
            outcomes.append(outcome)
            _report(outcome, verbose)
    passed = sum(o.passed for o in outcomes)
    skipped = sum(o.scenario in SKIPPED for o in outcomes)
    failed = len(outcomes) - passed - skipped
    print(f"{name}: {passed} passed, {failed} failed, {skipped} skipped by the suite", flush=True)
    return passed, failed


def _report(outcome: Outcome, verbose: bool) -> None:
    if outcome.scenario in SKIPPED:
        print(f"SKIP {outcome.scenario:<45} {outcome.problems[0]} ({outcome.seconds:.1f}s)", flush=True)
        return
    print(outcome.line(), flush=True)
    if not outcome.passed:
        for problem in outcome.problems:
            print(f"    {problem}")
        if verbose:
            print("    " + outcome.output.replace("\n", "\n    "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", help="server, server-2026-07-28, authorization (default: all)")
    parser.add_argument("--scenario", action="append", help="run only these scenarios (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel (default 2)")
    parser.add_argument("--list", action="store_true", help="list the sets and their scenarios")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the full output of failed scenarios")
    args = parser.parse_args(argv)
    check_installed()
    sets = server_sets()
    if args.list:
        for name, members in sets.items():
            print(f"set {name} ({len(members)}): {' '.join(members)}")
        return 0
    chosen = {k: v for k, v in sets.items() if not args.set or k in args.set}
    if args.scenario:
        chosen = {k: [s for s in v if s in args.scenario] for k, v in chosen.items()}
        chosen = {k: v for k, v in chosen.items() if v}
    passed = failed = 0
    server_sets_chosen = [k for k in chosen if k.startswith("server")]
    if server_sets_chosen:
        server = MockServer("--no-auth")
        try:
            for name in server_sets_chosen:
                version = MODERN if name.endswith(MODERN) else None
                p, f = run_set(name, chosen[name],
                               lambda s, v=version: run_server_scenario(server.url, s, v), args.jobs, args.verbose)
                passed, failed = passed + p, failed + f
        finally:
            server.stop()
    if "authorization" in chosen:
        print(f"== authorization: {len(chosen['authorization'])} scenarios against the mock authorization server",
              flush=True)
        outcomes = run_authorization(chosen["authorization"])
        for outcome in outcomes:
            _report(outcome, args.verbose)
        p = sum(o.passed for o in outcomes)
        print(f"authorization: {p} passed, {len(outcomes) - p} failed", flush=True)
        passed, failed = passed + p, failed + len(outcomes) - p
    print(f"server and authorization conformance: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
