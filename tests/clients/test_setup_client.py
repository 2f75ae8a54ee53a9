"""`mcp-auth setup-client` on sample configuration files of every client.

Each sample (missing, empty, with other entries, with comments, unparseable)
is edited through the real command. The result must parse as that client
parses it (Python's strict json for Claude Desktop, Claude Code, Cursor and
Windsurf; VS Code's own jsonc-parser for VS Code) and hold the entry the
client expects; re-running changes nothing; the backup is the original byte
for byte; --remove gives the original back; an unparseable file is refused
and left as it was. Claude Code's headersHelper is run through a shell, as
Claude Code runs it, against a signed-in mock server.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest

from mcp_auth_desktop.clients import setup
from mcp_auth_desktop.clients.targets import CLIENTS, is_ours
from mcp_auth_desktop.core.errors import ClientConfigError
from tests.clients.conftest import VsCodeParser

ROOT = Path(__file__).resolve().parents[2]
CMD = "/opt/bin/mcp-auth"

SAMPLES: dict[str, dict[str, str | None]] = {
    "claude-desktop": {
        "missing": None,
        "empty": "",
        "others": '{\n  "mcpServers": {\n    "filesystem": {\n      "command": "npx",\n'
                  '      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]\n    }\n  },\n'
                  '  "globalShortcut": "Ctrl+Space"\n}\n',
    },
    "claude-code": {
        "missing": None,
        "others": '{\n  "numStartups": 3,\n  "projects": {"/src/app": {"mcpServers": {}}},\n'
                  '  "mcpServers": {\n    "weather": {"type": "stdio", "command": "/bin/weather"}\n  }\n}\n',
        "no-servers-key": '{"theme": "dark", "userID": "abc"}',
    },
    "cursor": {
        "missing": None,
        "others": '{\n\t"mcpServers": {\n\t\t"remote": {\n\t\t\t"url": "https://api.example.com/mcp"\n\t\t}\n\t}\n}',
    },
    "windsurf": {
        "empty": "\n",
        "others": '{"mcpServers": {"github": {"command": "npx", "args": ["-y", "x"]}}}',
    },
    "vscode": {
        "missing": None,
        "comments": '{\r\n\t// my servers\r\n\t"servers": {\r\n\t\t"fetch": { "type": "stdio", "command": "uvx",'
                    ' "args": ["mcp-server-fetch"] }, // keep me\r\n\t},\r\n\t/* inputs */\r\n'
                    '\t"inputs": [],\r\n}\r\n',
        "only-comment": "// nothing yet\n{}\n",
    },
}
UNPARSEABLE = {
    "claude-desktop": '{"mcpServers": {}, }',
    "claude-code": '{\n  // comments are not JSON\n  "mcpServers": {}\n}',
    "cursor": '{"mcpServers": {"x": {"url": "https://a"}}',
    "windsurf": "mcpServers: {}",
    "vscode": '{"servers": {"a": 1,,}}',
}


def parse_as_client(client_id: str, text: str, vscode: VsCodeParser) -> Any:
    if CLIENTS[client_id].comments:
        errors, value = vscode.parse(text)
        assert errors == 0
        return value
    return json.loads(text)


def mcp_auth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcp_auth_desktop.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60, env=dict(os.environ))


@pytest.fixture
def server() -> dict[str, str]:
    r = mcp_auth("add", "https://mcp.example.com/mcp", "--name", "Example Server", "--no-discover",
                 "--json")
    assert r.returncode == 0, r.stderr
    view = json.loads(r.stdout)
    return {"id": view["id"], "name": view["name"], "url": view["url"]}


@pytest.fixture(autouse=True)
def _passphrase_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_AUTH_DESKTOP_KEYRING", "passphrase")
    monkeypatch.setenv("MCP_AUTH_DESKTOP_PASSPHRASE", "setup-client tests")


def _expected_entry(client_id: str, server: dict[str, str]) -> dict[str, Any]:
    if client_id == "claude-code":
        return {"type": "http", "url": server["url"],
                "headersHelper": f"{CMD} token {server['id']} --format json"}
    entry: dict[str, Any] = {"command": CMD, "args": ["bridge", server["id"]]}
    return {"type": "stdio", **entry} if client_id == "vscode" else entry


CASES = [(c, kind) for c, samples in SAMPLES.items() for kind in samples]


@pytest.mark.parametrize(("client_id", "kind"), CASES)
def test_setup_client_on_samples(tmp_path: Path, server: dict[str, str], vscode_parser: VsCodeParser,
                                 client_id: str, kind: str) -> None:
    original = SAMPLES[client_id][kind]
    path = tmp_path / "config.json"
    if original is not None:
        path.write_bytes(original.encode())
    before = None if original is None else parse_as_client(client_id, original.strip() or "{}", vscode_parser)
    args = ("setup-client", client_id, "example server", "--config", str(path), "--command", CMD)

    dry = mcp_auth(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "\n+" in dry.stdout and server["id"] in dry.stdout
    assert (path.read_bytes().decode() if path.exists() else None) == original  # dry run: untouched

    r = mcp_auth(*args)
    assert r.returncode == 0, r.stderr
    written = path.read_bytes().decode()
    data = parse_as_client(client_id, written, vscode_parser)
    key = CLIENTS[client_id].servers_key[0]
    assert data[key][server["name"]] == _expected_entry(client_id, server)
    if isinstance(before, dict):  # every other entry and setting is kept
        for k, v in before.items():
            if k != key:
                assert data[k] == v
        for name, entry in (before.get(key) or {}).items():
            assert data[key][name] == entry
    for comment in ("// my servers", "// keep me", "/* inputs */", "// nothing yet"):
        if original and comment in original:
            assert comment in written

    backups = sorted(tmp_path.glob("config.json.bak-mcp-auth-*"))
    if original is None:
        assert backups == []
    else:
        assert [b.read_bytes() for b in backups] == [original.encode()]  # byte for byte

    again = mcp_auth(*args)
    assert again.returncode == 0 and "already set up" in again.stdout
    assert path.read_bytes().decode() == written
    assert len(sorted(tmp_path.glob("config.json.bak-mcp-auth-*"))) == len(backups)

    gone = mcp_auth(*args, "--remove")
    assert gone.returncode == 0, gone.stderr
    after = path.read_bytes().decode()
    twice = mcp_auth(*args, "--remove")
    assert twice.returncode == 0 and "no 'Example Server' entry to remove" in twice.stdout
    assert path.read_bytes().decode() == after
    if before and (before.get(key) or {}):
        assert after == original  # other entries there: the exact original comes back
    else:
        left = parse_as_client(client_id, after, vscode_parser)
        assert server["name"] not in left.get(key, {})
        assert {k: v for k, v in left.items() if k != key} == {
            k: v for k, v in (before or {}).items() if k != key}


@pytest.mark.parametrize("client_id", list(UNPARSEABLE))
def test_unparseable_file_is_refused_unchanged(tmp_path: Path, server: dict[str, str], client_id: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(UNPARSEABLE[client_id])
    r = mcp_auth("setup-client", client_id, server["name"], "--config", str(path))
    assert r.returncode == 2
    assert "cannot be parsed" in r.stderr and "left unchanged" in r.stderr and str(path) in r.stderr
    assert path.read_bytes().decode() == UNPARSEABLE[client_id]
    assert list(tmp_path.iterdir()) == [path]


def test_an_entry_someone_else_wrote_is_not_replaced(tmp_path: Path, server: dict[str, str]) -> None:
    path = tmp_path / "mcp.json"
    theirs = '{"mcpServers": {"Example Server": {"command": "npx", "args": ["mcp-remote", "x"]}}}'
    path.write_text(theirs)
    r = mcp_auth("setup-client", "cursor", server["name"], "--config", str(path))
    assert r.returncode == 2 and "did not write" in r.stderr
    assert path.read_bytes().decode() == theirs
    r = mcp_auth("setup-client", "cursor", server["name"], "--config", str(path), "--entry-name", "ours")
    assert r.returncode == 0
    data = json.loads(path.read_bytes().decode())
    assert data["mcpServers"]["Example Server"]["args"] == ["mcp-remote", "x"]
    assert is_ours(data["mcpServers"]["ours"])


def test_print_and_project_scope(tmp_path: Path, server: dict[str, str]) -> None:
    r = mcp_auth("setup-client", "claude-code", server["id"], "--print", "--command", CMD)
    assert json.loads(r.stdout) == {"mcpServers": {server["name"]: _expected_entry("claude-code", server)}}
    r = mcp_auth("setup-client", "claude-code", server["url"], "--scope", "project", "--project",
                 str(tmp_path), "--command", CMD)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / ".mcp.json").read_text())["mcpServers"][server["name"]]
    r = mcp_auth("setup-client", "windsurf", server["name"], "--scope", "project")
    assert r.returncode == 2  # argparse accepts the word; Windsurf has no project file
    assert "no project configuration" in r.stderr
    assert mcp_auth("setup-client", "cursor", "nosuch").returncode == 4


def test_symlinked_config_is_edited_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}')
    link = tmp_path / "mcp.json"
    link.symlink_to(real)
    change = setup.plan("cursor", entry_name="x", server_id="abc", url="https://a.example/mcp",
                        config_path=link, command=CMD)
    setup.apply(change)
    assert link.is_symlink()
    assert json.loads(real.read_text())["mcpServers"]["x"]["args"] == ["bridge", "abc"]


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text("{}")
    change = setup.plan("cursor", entry_name="x", server_id="abc", url="https://a.example/mcp",
                        config_path=path, command=CMD)
    path.write_text('{"mcpServers": {"new": {"command": "y"}}}')
    with pytest.raises(ClientConfigError, match="changed since it was read"):
        setup.apply(change)
    assert json.loads(path.read_bytes().decode()) == {"mcpServers": {"new": {"command": "y"}}}


@pytest.mark.parametrize(("client_id", "platform", "expected"), [
    ("claude-desktop", "darwin", "/Users/u/Library/Application Support/Claude/claude_desktop_config.json"),
    ("claude-desktop", "win32", r"C:\Users\u\AppData\Roaming\Claude\claude_desktop_config.json"),
    ("claude-desktop", "linux", "/home/u/.config/Claude/claude_desktop_config.json"),
    ("claude-code", "linux", "/home/u/.claude.json"),
    ("claude-code", "win32", r"C:\Users\u\.claude.json"),
    ("cursor", "darwin", "/Users/u/.cursor/mcp.json"),
    ("cursor", "win32", r"C:\Users\u\.cursor\mcp.json"),
    ("windsurf", "linux", "/home/u/.codeium/windsurf/mcp_config.json"),
    ("windsurf", "win32", r"C:\Users\u\.codeium\windsurf\mcp_config.json"),
    ("vscode", "linux", "/home/u/.config/Code/User/mcp.json"),
    ("vscode", "darwin", "/Users/u/Library/Application Support/Code/User/mcp.json"),
    ("vscode", "win32", r"C:\Users\u\AppData\Roaming\Code\User\mcp.json"),
])
def test_user_config_paths_per_platform(client_id: str, platform: str, expected: str) -> None:
    home = {"darwin": "/Users/u", "linux": "/home/u", "win32": r"C:\Users\u"}[platform]
    env = {"APPDATA": r"C:\Users\u\AppData\Roaming"} if platform == "win32" else {}
    path = CLIENTS[client_id].path("user", platform=platform, env=env, home=home)
    pure = PureWindowsPath if platform == "win32" else PurePosixPath
    assert path == pure(expected)


def test_project_paths_and_xdg() -> None:
    assert CLIENTS["vscode"].path("project", platform="linux", env={}, home="/h", project="/p") == \
        PurePosixPath("/p/.vscode/mcp.json")
    assert CLIENTS["cursor"].path("project", platform="linux", env={}, home="/h", project="/p") == \
        PurePosixPath("/p/.cursor/mcp.json")
    assert CLIENTS["vscode"].path("user", platform="linux", env={"XDG_CONFIG_HOME": "/x"}, home="/h") == \
        PurePosixPath("/x/Code/User/mcp.json")


@pytest.mark.keyring
@pytest.mark.e2e
async def test_claude_codes_headers_helper_prints_a_working_header(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper Claude Code would run, run the way it runs it (a shell), on a signed-in server."""
    from tests.cli.test_token_fast import _sign_in, _start

    monkeypatch.delenv("MCP_AUTH_DESKTOP_KEYRING")  # the real keyring, as a user has it
    monkeypatch.delenv("MCP_AUTH_DESKTOP_PASSPHRASE")
    mock_iter = _start(3600)
    mock = next(mock_iter)
    try:
        await _sign_in(mock)
        path = tmp_path / ".claude.json"
        script = Path(sys.executable).with_name("mcp-auth")
        r = await asyncio.to_thread(mcp_auth, "setup-client", "claude-code", "mock", "--config",
                                    str(path), "--command", str(script))
        assert r.returncode == 0, r.stderr
        helper = json.loads(path.read_bytes().decode())["mcpServers"]["Mock"]["headersHelper"]
        out = await asyncio.to_thread(subprocess.run, ["/bin/sh", "-c", helper], capture_output=True,
                                      text=True, timeout=10, env=dict(os.environ))
        assert out.returncode == 0, out.stderr
        headers = json.loads(out.stdout)
        assert list(headers) == ["Authorization"] and headers["Authorization"].startswith("Bearer ")
        import httpx

        async with httpx.AsyncClient(trust_env=False) as c:
            resp = await c.post(mock.mcp_url, headers={**headers, "Accept": "application/json, text/event-stream"},
                                json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                                    "protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "t", "version": "0"}}})
        assert resp.status_code == 200
    finally:
        mock_iter.close()
