"""Issue 15 #5: no control or escape sequence from a server reaches the terminal or a log line.

The hostile values carry a screen clear (``ESC [ 2 J``), an OSC 8 hyperlink,
a carriage return (overwrites the line), a BIDI override (U+202E), NUL, a C1
CSI (``\\x9b``) and a line separator. They go through the real ``mcp-auth``
process (plain and ``--json`` output, stdout and stderr) and through the log
formatter, and must come out visible but inert; ``--json`` stays valid JSON
and decodes to the original value.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_auth_desktop.cli.render import log_formatter
from mcp_auth_desktop.core.safetext import terminal_safe

ROOT = Path(__file__).resolve().parents[2]

CLEAR = "\x1b[2J"
OSC8 = "\x1b]8;;https://evil.example/\x07click here\x1b]8;;\x07"
HOSTILE = f"c1{CLEAR}{OSC8}\rfake\u202eexe.txt\x00\x9b31m\u2028x"
#: Anything a terminal acts on: C0 (but newline and tab), DEL, C1, bidi controls, separators.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@pytest.mark.parametrize(
    "value",
    [CLEAR, OSC8, "a\rb", "\u202eabc", "a\x00b", "\x9b2J", "a\u2028b", "\u2066x\u2069", "a\U000e0041b"],
)
def test_terminal_safe_leaves_nothing_a_terminal_acts_on(value: str) -> None:
    out = terminal_safe(value)
    assert not RAW.search(out) and "\U000e0041" not in out
    assert out != value  # visible, not silently dropped
    # The escapes are JSON escapes: inside a JSON string they decode to the original.
    assert json.loads(f'"{out}"') == value


def test_terminal_safe_keeps_ordinary_text() -> None:
    text = "Signed in to Ex\u00e4mple (\u6771\u4eac) \u2014 scopes: read write"
    assert terminal_safe(text) == text
    assert terminal_safe("a\nb", keep="\n") == "a\nb" and terminal_safe("a\nb") == "a\\u000ab"


def test_log_lines_are_escaped_and_cannot_be_forged() -> None:
    formatter = log_formatter("mcp-auth: %(levelname)s: %(name)s: %(message)s")
    record = logging.LogRecord(
        "mcp_auth_desktop.core.flow", logging.WARNING, __file__, 1,
        "server said %s", (f"{HOSTILE}\nmcp-auth: INFO: signed in",), None,
    )
    line = formatter.format(record)
    assert "\n" not in line and not RAW.search(line)
    assert line.startswith("mcp-auth: WARNING: mcp_auth_desktop.core.flow: server said c1\\u001b[2J")


def test_traceback_in_a_log_line_keeps_its_own_newlines() -> None:
    formatter = log_formatter("%(message)s")
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = formatter.format(record)
    assert text.count("\n") >= 2 and not RAW.search(text)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MCP_AUTH_DESKTOP_KEYRING": "passphrase",
        "MCP_AUTH_DESKTOP_PASSPHRASE": "terminal escapes passphrase",
    }
    return subprocess.run(
        [sys.executable, "-m", "mcp_auth_desktop.cli.main", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )


def test_cli_output_neutralises_hostile_values_and_json_stays_valid() -> None:
    name = f"ex{CLEAR}\u202eample"
    # A scope with controls is refused where it is typed, the flag named, the value escaped.
    refused = _cli("add", "https://mcp.example/mcp", "--no-discover", "--scope", f"read{CLEAR}\x9b31m")
    assert refused.returncode == 2 and "--scope: 'read\\x1b[2J\\x9b31m' is not a scope" in refused.stderr
    added = _cli(
        "add", "https://mcp.example/mcp", "--no-discover", "--name", name,
        "--client-id", HOSTILE.replace("\x00", ""),  # argv cannot carry NUL
    )
    assert added.returncode == 0, added.stderr
    outputs = [added]
    for args in (("list",), ("status", "https://mcp.example/mcp"), ("list", "--json"),
                 ("status", "https://mcp.example/mcp", "--json"), ("status", f"nothing{CLEAR}\u202e")):
        outputs.append(_cli(*args))
    for out in [refused, *outputs]:
        assert not RAW.search(out.stdout), out.args
        assert not RAW.search(out.stderr), out.args
    status = _cli("status", "https://mcp.example/mcp")
    assert "Client:" in status.stdout and "\\u001b]8;;https://evil.example/" in status.stdout
    # No value split or overwrote a line: every line is still "Label: value".
    assert all(re.match(r"[A-Z][A-Za-z ]+: ", line) for line in status.stdout.splitlines())
    view = json.loads(outputs[4].stdout)  # valid JSON, the original values inside
    assert view["name"] == name
    assert view["client_id"] == HOSTILE.replace("\x00", "")
    assert view["requested_scopes"] == []
    listing = json.loads(outputs[3].stdout)
    assert listing["servers"][0]["name"] == name


@pytest.mark.parametrize("field", ["access_token", "refresh_token"])
@pytest.mark.parametrize("bad", [f"at{CLEAR}", "at\r", "at\u202e", "at\x00", "at\x9b", "at\n"])
def test_tokens_with_control_characters_are_refused(field: str, bad: str) -> None:
    """`mcp-auth token` prints the access token raw (it is the output), so a token must be
    printable ASCII (RFC 6749 A.12 VSCHAR) when it is received, or it is refused."""
    from mcp_auth_desktop.core.errors import TokenResponseError
    from mcp_auth_desktop.core.oauth import parse_token_response

    body = {"access_token": "at-ok", "token_type": "Bearer", "expires_in": 60, "refresh_token": "rt-ok"}
    body[field] = bad
    with pytest.raises(TokenResponseError):
        parse_token_response(200, {}, body, now=0.0)
    body[field] = "printable ~!@#$%^&*() token"
    assert parse_token_response(200, {}, body, now=0.0)
