"""Small pure parts of the bridge: the app's command line protocol, the era translation, its errors."""

from __future__ import annotations

from mcp_auth_desktop.bridge import appipc, jsonrpc
from mcp_auth_desktop.bridge.translate import META_INFO, META_VERSION, EraTranslator, modern_version
from mcp_auth_desktop.core import errors


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


def test_each_failure_becomes_the_error_a_client_can_act_on() -> None:
    where = "https://mcp.example.com/mcp"
    assert jsonrpc.failure(TimeoutError(), where, 2.5) == (
        jsonrpc.UPSTREAM_ERROR,
        f"The MCP server at {where} sent nothing for 2.5 seconds; the bridge gave up on this request.",
        "timeout",
    )
    for exc in (errors.SignInRequiredError("sign in"), errors.InvalidTokenError("401"),
                errors.InvalidGrantError("invalid_grant"), errors.ServerNotFoundError("gone"),
                errors.StateMismatchError("state")):
        assert jsonrpc.failure(exc, where, 1) == (jsonrpc.AUTH_ERROR, exc.user_message, "sign_in_required")
    outage = errors.NetworkError("down")
    assert jsonrpc.failure(outage, where, 1) == (jsonrpc.UPSTREAM_ERROR, "down", "unavailable")
    broken = errors.McpProtocolError("bad")
    assert jsonrpc.failure(broken, where, 1) == (jsonrpc.UPSTREAM_ERROR, "bad", "failed")
    assert (jsonrpc.AUTH_ERROR, jsonrpc.UPSTREAM_ERROR) == (-32001, -32002)  # documented in docs/CLI.md


def test_error_objects_and_ids() -> None:
    assert jsonrpc.error_message(3, jsonrpc.PARSE_ERROR, "bad", "srv") == {
        "jsonrpc": "2.0", "id": 3, "error": {"code": -32700, "message": "bad"}}
    assert jsonrpc.error_message("a", -32001, "no", "srv", reason="timeout")["error"]["data"] == {
        "server": "srv", "reason": "timeout"}
    assert [jsonrpc.is_id(v) for v in (1, "x", True, None, 1.5)] == [True, True, False, False, False]
    assert jsonrpc.says_modern({"error": {"code": -32022}})
    assert not jsonrpc.says_modern({"error": {"code": -32600}}) and not jsonrpc.says_modern("x")
