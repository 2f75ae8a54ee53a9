"""Small pure parts of the bridge: the app's command line protocol and the era translation."""

from __future__ import annotations

from mcp_auth_desktop.bridge import appipc
from mcp_auth_desktop.bridge.translate import META_INFO, META_VERSION, EraTranslator, modern_version


def test_app_commands_are_parsed_strictly() -> None:
    assert appipc.parse_command("show\n") == ("show", "", ())
    assert appipc.parse_command("signin abc123 mcp:write notes:share") == (
        "signin", "abc123", ("mcp:write", "notes:share"))
    assert appipc.parse_command("signin") is None
    assert appipc.parse_command("signin id\x07bell") is None  # control characters refused
    assert appipc.parse_command("signin " + "x" * 201) is None
    assert appipc.parse_command("signin id " + " ".join(["s"] * 40)) is None  # too many scopes
    assert appipc.parse_command("open http://evil") is None


def test_translation_keeps_the_clients_own_meta_and_ids() -> None:
    era = EraTranslator()
    era.remember_initialize({"params": {"capabilities": {"sampling": {}},
                                        "clientInfo": {"name": "old", "version": "1"}}})
    request = {"jsonrpc": "2.0", "id": 9, "method": "tools/call",
               "params": {"name": "echo", "arguments": {}, "_meta": {"progressToken": 4}}}
    modern = era.to_modern_request(request)
    assert modern["id"] == 9 and modern_version(modern) == "2026-07-28"
    assert modern["params"]["_meta"]["progressToken"] == 4
    assert modern["params"]["_meta"][META_INFO] == {"name": "old", "version": "1"}
    assert request["params"]["_meta"] == {"progressToken": 4}  # the original is not changed
    back = EraTranslator.to_legacy_request(modern)
    assert back["params"]["_meta"] == {"progressToken": 4}
    assert META_VERSION not in back["params"]["_meta"]
    headers = era.headers(modern)
    assert headers["MCP-Protocol-Version"] == "2026-07-28"
    assert headers["Mcp-Method"] == "tools/call" and headers["Mcp-Name"] == "echo"


def test_results_change_shape_between_eras() -> None:
    era = EraTranslator()
    refused = era.to_legacy_reply({"jsonrpc": "2.0", "id": 1,
                                   "result": {"resultType": "input_required", "inputRequests": {}}})
    assert isinstance(refused, str) and "older MCP revision" in refused
    plain = era.to_legacy_reply({"jsonrpc": "2.0", "id": 1,
                                 "result": {"resultType": "complete", "ttlMs": 0, "cacheScope": "private",
                                            "tools": []}})
    assert plain == {"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}
    listed = era.to_modern_reply("tools/list", {"jsonrpc": "2.0", "id": 2, "result": {"tools": []}})
    assert listed["result"] == {"resultType": "complete", "ttlMs": 0, "cacheScope": "private", "tools": []}
    called = era.to_modern_reply("tools/call", {"jsonrpc": "2.0", "id": 3, "result": {"content": []}})
    assert called["result"] == {"resultType": "complete", "content": []}
