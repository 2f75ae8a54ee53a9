"""Browser openers: http(s) only, BROWSER honoured, and never a shell (catalogue item 7)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from mcp_auth_desktop.core.browser import (
    CallbackBrowser,
    SystemBrowser,
    browser_commands,
    check_browser_url,
)
from mcp_auth_desktop.core.errors import ConfigurationError, InsecureUrlError

URL = "https://as.example.com/authorize?response_type=code&client_id=abc&state=xyz"


def make_recorder(tmp_path: Path, name: str = "record-browser", *, exit_code: int = 0) -> tuple[Path, Path]:
    """A BROWSER command that appends its argv (as JSON) to a log file."""
    log = tmp_path / f"{name}.log"
    script = tmp_path / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def recorded(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


class FakeFallback:
    def __init__(self, result: bool = True) -> None:
        self.result = result
        self.calls: list[str] = []

    def __call__(self, url: str) -> bool:
        self.calls.append(url)
        return self.result


async def test_browser_script_gets_the_url_as_one_argument_without_shell_interpretation(tmp_path: Path) -> None:
    script, log = make_recorder(tmp_path)
    m1, m2 = tmp_path / "pwned1", tmp_path / "pwned2"
    hostile = f"https://as.example.com/authorize?a=1;touch$IFS{m1}&b=$(touch$IFS{m2})&c=x&&d=$HOME"
    fallback = FakeFallback()
    await SystemBrowser(environ={"BROWSER": str(script)}, fallback=fallback).open(hostile)
    assert recorded(log) == [[hostile]]
    assert not m1.exists() and not m2.exists()
    assert fallback.calls == []


async def test_percent_s_is_substituted_and_words_are_split(tmp_path: Path) -> None:
    script, log = make_recorder(tmp_path)
    await SystemBrowser(
        environ={"BROWSER": f"{script} --new-window '--title=a b' --url=%s"}, fallback=FakeFallback()
    ).open(URL)
    assert recorded(log) == [["--new-window", "--title=a b", f"--url={URL}"]]


async def test_entries_are_tried_in_order_until_one_works(tmp_path: Path) -> None:
    failing, failing_log = make_recorder(tmp_path, "failing", exit_code=3)
    good, good_log = make_recorder(tmp_path, "good")
    value = os.pathsep.join([str(tmp_path / "does-not-exist"), "", "'unbalanced", str(failing), str(good)])
    fallback = FakeFallback()
    await SystemBrowser(environ={"BROWSER": value}, fallback=fallback).open(URL)
    assert recorded(failing_log) == [[URL]]
    assert recorded(good_log) == [[URL]]
    assert fallback.calls == []


async def test_falls_back_to_webbrowser_when_no_entry_works(tmp_path: Path) -> None:
    fallback = FakeFallback()
    await SystemBrowser(environ={"BROWSER": str(tmp_path / "missing")}, fallback=fallback).open(URL)
    assert fallback.calls == [URL]
    fallback2 = FakeFallback()
    await SystemBrowser(environ={}, fallback=fallback2).open(URL)
    assert fallback2.calls == [URL]


async def test_no_browser_at_all_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="BROWSER"):
        await SystemBrowser(environ={}, fallback=FakeFallback(result=False)).open(URL)


async def test_reads_the_process_environment_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, log = make_recorder(tmp_path)
    monkeypatch.setenv("BROWSER", str(script))
    await SystemBrowser(fallback=FakeFallback()).open(URL)
    assert recorded(log) == [[URL]]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "ftp://as.example.com/",
        "https://",
        "//as.example.com/authorize",
        "",
        "https://as.example.com/a b",
        "https://as.example.com/a\nb",
        'https://as.example.com/"quoted"',
        "https://as.example.com/`id`",
        "https://as.example.com/caf\u00e9",
        "https://[::1/",
    ],
)
async def test_catalogue_client_7_hostile_urls_never_reach_a_launcher(url: str, tmp_path: Path) -> None:
    script, log = make_recorder(tmp_path)
    fallback = FakeFallback()
    with pytest.raises(InsecureUrlError):
        await SystemBrowser(environ={"BROWSER": str(script)}, fallback=fallback).open(url)
    assert recorded(log) == [] and fallback.calls == []
    seen: list[str] = []
    with pytest.raises(InsecureUrlError):
        await CallbackBrowser(seen.append).open(url)
    assert seen == []


def test_check_browser_url_accepts_http_and_https() -> None:
    assert check_browser_url(URL) == URL
    assert check_browser_url("http://127.0.0.1:8080/authorize?x=%20y") == "http://127.0.0.1:8080/authorize?x=%20y"
    assert check_browser_url("HTTPS://AS.example.com/") == "HTTPS://AS.example.com/"


def test_browser_commands_parsing() -> None:
    sep = os.pathsep
    assert browser_commands(None, URL) == []
    assert browser_commands(f"firefox{sep}chromium --incognito %s", URL) == [
        ["firefox", URL],
        ["chromium", "--incognito", URL],
    ]
    # The URL is one argv element even when it carries shell metacharacters.
    tricky = "https://x.example/?a=$(id);b&c"
    assert browser_commands("open", tricky) == [["open", tricky]]
    assert browser_commands(f"'bad{sep} {sep}ok", URL) == [["ok", URL]]


async def test_callback_browser_sync_and_async() -> None:
    seen: list[str] = []
    cb = CallbackBrowser(seen.append)
    await cb.open(URL)
    assert seen == [URL] and cb.opened == [URL]

    got: list[str] = []

    async def deliver(url: str) -> None:
        got.append(url)

    await CallbackBrowser(deliver).open(URL)
    assert got == [URL]
