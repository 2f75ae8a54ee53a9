"""Run a client suite of the official MCP conformance suite against our adapter.

    python -m tests.conformance.run                     # every client scenario but extensions, per set
    python -m tests.conformance.run --suite extensions --report-only   # DPoP, client credentials, ...
    python -m tests.conformance.run --suite auth        # or any suite the package defines
    python -m tests.conformance.run --scenario auth/scope-step-up -v
    python -m tests.conformance.run --list

Every scenario runs on its own in single-scenario mode (``client --scenario X``),
where a WARNING check, a timeout or a non-zero exit fails it, unlike the
suite's ``--suite`` mode which only counts FAILURE checks. Up to two run at a
time. One line per scenario, then ``SET: N passed, M failed`` per set; the exit
status is non-zero when any scenario failed (unless ``--report-only``).

The suite is installed by ``make bootstrap`` into ``.cache/conformance``
(Node 22 and ``@modelcontextprotocol/conformance``). Which scenarios make up a
suite is read from the installed package itself, so the list follows the
pinned version.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "conformance"
NODE_BIN = CACHE / "node_modules" / "node" / "bin"
CLI = CACHE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
ADAPTER_MODULE = "tests.conformance.adapter"
SCENARIO_TIMEOUT_MS = 30_000


@dataclass
class Outcome:
    scenario: str
    passed: bool
    successes: int = 0
    failures: int = 0
    warnings: int = 0
    exit_code: int | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    output: str = ""

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{verdict} {self.scenario:<45} {self.successes} passed, {self.failures} failed, "
            f"{self.warnings} warnings ({self.seconds:.1f}s)"
        )


def node_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NO_COLOR", "1")
    return env


def node() -> str:
    found = shutil.which("node", path=node_env()["PATH"])
    if not found:
        raise SystemExit("node is not installed; run `make bootstrap` first")
    return found


def check_installed() -> None:
    if not CLI.exists():
        raise SystemExit(
            f"The conformance suite is not installed ({CLI.relative_to(ROOT)} is missing); "
            "run `make bootstrap` first."
        )


_SUITE_MAP = re.compile(r"\{all:[^{}]*\}")
# The bundle ends by parsing the command line through its (minified, renamed) commander object.
_TAIL = re.compile(r"[A-Za-z_$][\w$]*\.parse\(\);export\{\};$")


def probe_source(cli_text: str) -> str:
    """The CLI bundle with its command-line entry point replaced by a dump of every suite.

    The bundle keeps its suites in one object literal (``{all:…,auth:…,…}``) of
    functions that list scenario names; the probe prints that as JSON.
    """
    body = cli_text.split("\n", 1)[1] if cli_text.startswith("#!") else cli_text
    body = body.rstrip()
    match = _SUITE_MAP.search(body)
    tail = _TAIL.search(body)
    if match is None or tail is None:
        raise ValueError("unrecognised conformance CLI bundle")
    dump = (
        "console.log(JSON.stringify(Object.fromEntries(Object.entries("
        + match.group()
        + ").map(([k,f])=>[k,f()]))));export{};"
    )
    return body[: tail.start()] + dump


def suites() -> dict[str, list[str]]:
    """Suite name -> scenario names, as the installed package defines them."""
    check_installed()
    # Beside node_modules so its imports resolve; a unique name so parallel runs do not clash.
    fd, name = tempfile.mkstemp(prefix="suites-probe-", suffix=".mjs", dir=CACHE)
    probe = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(probe_source(CLI.read_text(encoding="utf-8")))
    try:
        out = subprocess.run(
            [node(), str(probe)], capture_output=True, text=True, env=node_env(), timeout=60, check=True
        ).stdout
    finally:
        probe.unlink(missing_ok=True)
    data = json.loads(out)
    return {str(k): [str(s) for s in v] for k, v in data.items()}


def adapter_command() -> str:
    """The --command string; the suite splits it on spaces, so no path may contain one."""
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    if " " in python:
        wrapper = CACHE / "adapter.sh"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {ADAPTER_MODULE} "$@"\n')
        wrapper.chmod(0o755)
        return os.path.relpath(wrapper, ROOT)
    return f"{python} -m {ADAPTER_MODULE}"


def summarize(scenario: str, checks: Sequence[Mapping[str, object]], exit_code: int | None) -> Outcome:
    """Count checks; single-scenario rules: any FAILURE or WARNING fails."""
    out = Outcome(scenario=scenario, passed=False, exit_code=exit_code)
    for c in checks:
        status = c.get("status")
        if status == "SUCCESS":
            out.successes += 1
        elif status == "FAILURE":
            out.failures += 1
            out.problems.append(f"FAILURE {c.get('name')}: {c.get('errorMessage') or c.get('description')}")
        elif status == "WARNING":
            out.warnings += 1
            out.problems.append(f"WARNING {c.get('name')}: {c.get('errorMessage') or c.get('description')}")
    out.passed = exit_code == 0 and out.failures == 0 and out.warnings == 0 and out.successes > 0
    if exit_code not in (0, None) and not out.problems:
        out.problems.append(f"the conformance CLI exited with status {exit_code}")
    return out


def run_scenario(scenario: str, timeout_ms: int = SCENARIO_TIMEOUT_MS) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="conformance-") as results:
        cmd = [
            node(),
            str(CLI),
            "client",
            "--command",
            adapter_command(),
            "--scenario",
            scenario,
            "--timeout",
            str(timeout_ms),
            "-o",
            results,
        ]
        try:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=node_env(),
                capture_output=True,
                text=True,
                timeout=timeout_ms / 1000 + 60,
            )
            exit_code: int | None = proc.returncode
            output = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            exit_code = None
            partial = [p.decode(errors="replace") if isinstance(p, bytes) else (p or "") for p in (exc.stdout, exc.stderr)]
            output = "".join(partial) + "\n(timed out)"
        checks: list[dict[str, object]] = []
        for path in Path(results).rglob("checks.json"):
            checks.extend(json.loads(path.read_text(encoding="utf-8")))
    outcome = summarize(scenario, checks, exit_code)
    if exit_code is None:
        outcome.passed = False
        outcome.problems.append("the scenario did not finish in time")
    outcome.seconds = time.monotonic() - started
    outcome.output = output
    return outcome


def client_sets(all_suites: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The client scenarios in the sets ``make conformance`` reports, each scenario once.

    * ``core``: the suite's own core set (initialize, tools, SSE, elicitation, auth);
    * ``2026-07-28``: its ``draft`` set (the 2026-07-28 requirements: request
      metadata, headers, request state, the new auth scenarios) and any other
      non-extension scenario not in a set (JSON Schema 2020-12 preservation);
    * ``backcompat``: the 2025-03-26 authorization fallbacks;
    * ``extensions``: scenarios for extensions (DPoP, client credentials,
      enterprise-managed authorization, workload identity, skills), run only
      by ``make conformance-extensions``.
    """
    everything = list(all_suites.get("all", []))
    extensions = set(all_suites.get("extensions", [])) | {s for s in everything if s.startswith("sep-2640-")}
    core = [s for s in all_suites.get("core", []) if s not in extensions]
    backcompat = [s for s in all_suites.get("backcompat", []) if s not in extensions]
    taken = set(core) | set(backcompat) | extensions
    modern = [s for s in everything if s not in taken]
    return {
        "core": core,
        "2026-07-28": modern,
        "backcompat": backcompat,
        "extensions": [s for s in everything if s in extensions],
    }


#: What ``--suite`` accepts besides the installed suite names.
GROUPS = {"client": ("core", "2026-07-28", "backcompat"), "extensions": ("extensions",)}


def run_sets(sets: Mapping[str, Sequence[str]], jobs: int, timeout: int, verbose: bool) -> tuple[int, int]:
    """Run each set; one line per scenario and a total per set. Returns (passed, failed) overall."""
    total_passed = total_failed = 0
    for name, scenarios in sets.items():
        print(f"== {name}: {len(scenarios)} client scenarios, single-scenario mode, {jobs} at a time", flush=True)
        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for outcome in pool.map(lambda s: run_scenario(s, timeout), scenarios):
                outcomes.append(outcome)
                print(outcome.line(), flush=True)
                if not outcome.passed:
                    for problem in outcome.problems:
                        print(f"    {problem}")
                    if verbose:
                        print("    " + outcome.output.replace("\n", "\n    "))
        passed = sum(o.passed for o in outcomes)
        failed = len(outcomes) - passed
        print(f"{name}: {passed} passed, {failed} failed", flush=True)
        total_passed += passed
        total_failed += failed
    return total_passed, total_failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--suite",
        default="client",
        help="client (core, 2026-07-28 and backcompat sets), extensions, or a suite the package defines",
    )
    parser.add_argument("--scenario", action="append", help="run only these scenarios (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel (default 2)")
    parser.add_argument("--timeout", type=int, default=SCENARIO_TIMEOUT_MS, help="per-scenario timeout in ms")
    parser.add_argument("--list", action="store_true", help="list the suites and their scenarios")
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 whatever the outcome (for unsupported extensions)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print the full output of failed scenarios")
    args = parser.parse_args(argv)

    check_installed()
    all_suites = suites()
    ours = client_sets(all_suites)
    if args.list:
        for name, members in ours.items():
            print(f"set {name} ({len(members)}): {' '.join(members)}")
        for name, members in all_suites.items():
            print(f"package suite {name} ({len(members)}): {' '.join(members)}")
        return 0
    suite = args.suite.lower()
    if args.scenario:
        sets: dict[str, list[str]] = {"selected": list(args.scenario)}
    elif suite in GROUPS:
        sets = {name: ours[name] for name in GROUPS[suite]}
    elif suite in all_suites:
        sets = {suite: list(all_suites[suite])}
    else:
        print(f"unknown suite {suite!r}; available: {', '.join([*GROUPS, *all_suites])}", file=sys.stderr)
        return 2
    passed, failed = run_sets(sets, args.jobs, args.timeout, args.verbose)
    if len(sets) > 1:
        print(f"all sets: {passed} passed, {failed} failed")
    if args.report_only:
        return 0
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
