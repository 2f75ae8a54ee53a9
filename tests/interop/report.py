"""Step results of the interop run and the ``docs/compatibility.md`` written from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

STEPS: tuple[tuple[str, str], ...] = (
    ("add", "add"),
    ("login", "login"),
    ("token", "token"),
    ("call", "call tools/list"),
    ("refresh", "forced refresh"),
    ("relogin", "login again (same client, same port)"),
    ("restart", "authorization server restarted (stale client)"),
    ("revoke", "revoke"),
    ("remove", "remove"),
)


@dataclass
class StepResult:
    ok: bool
    text: str


@dataclass
class ServerResults:
    key: str
    title: str
    version: str
    authorization_server: str
    url: str
    steps: dict[str, StepResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, step: str, ok: bool, text: str) -> None:
        self.steps[step] = StepResult(ok, text)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


RESULTS: dict[str, ServerResults] = {}


def _cell(result: StepResult | None) -> str:
    if result is None:
        return "not run"
    return ("✅ " if result.ok else "❌ ") + result.text.replace("|", "\\|")


def render(results: dict[str, ServerResults], order: tuple[str, ...]) -> str:
    lines = [
        "# Compatibility",
        "",
        "Written by the interop run (`tests/interop/`, part of `make test`) from the results it",
        "recorded; do not edit by hand. Every server runs on loopback, unmodified, started the way",
        "its own documentation starts it, with `--allow-insecure-loopback` on our side; the system",
        "browser is Chromium driven by Playwright. Each step is one assertion of the run.",
        "",
        "| Step | " + " | ".join(f"{results[k].title} {results[k].version}" for k in order) + " |",
        "|---|" + "---|" * len(order),
        "| Authorization server | " + " | ".join(results[k].authorization_server for k in order) + " |",
        "| Server URL (form) | " + " | ".join(f"`{_url_form(results[k].url)}`" for k in order) + " |",
    ]
    for step, label in STEPS:
        lines.append(f"| {label} | " + " | ".join(_cell(results[k].steps.get(step)) for k in order) + " |")
    lines += ["", "## Deviations we tolerate, and why", ""]
    for k in order:
        r = results[k]
        lines.append(f"**{r.title} {r.version}**")
        lines.append("")
        lines += [f"- {n}" for n in r.notes] or ["- none"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _url_form(url: str) -> str:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    name = host.rsplit(":", 1)[0]
    return f"{scheme}://{name}:PORT/{path}"


def write_if_complete(path: Path, order: tuple[str, ...]) -> bool:
    """Write the table when every server of the suite recorded its results in this run."""
    if not all(k in RESULTS for k in order):
        return False
    text = render(RESULTS, order)
    # Keep the protocol-era section that tests/interop/test_protocol_eras.py writes.
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- protocol-eras:start", "<!-- protocol-eras:end -->"
    if start in old and end in old:
        text += "\n" + old[old.index(start) : old.index(end) + len(end)] + "\n"
    path.write_text(text, encoding="utf-8")
    return True
