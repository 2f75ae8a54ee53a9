"""core/mcp/answers.py: one rule for a refused token, for the app's MCP client and the bridge.

The texts are the ones each caller wrote before the rule was shared: the client's
ends with what to do; the bridge's (after its one refresh) leaves the advice to
BridgeTokens.step_up. The tests drive both callers over real HTTP too
(tests/core/test_mcp_client.py, tests/bridge/).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mcp_auth_desktop.core.errors import (
    InsufficientScopeError,
    InvalidTokenError,
    ResponseTooLargeError,
)
from mcp_auth_desktop.core.mcp.answers import (
    match_response,
    media_type,
    read_capped,
    token_refusal,
)
from mcp_auth_desktop.core.www_authenticate import BearerChallenge, bearer_challenge

WHERE = "https://mcp.example.com/mcp"


def _challenge(header: str) -> BearerChallenge | None:
    return bearer_challenge([header])


def test_401_for_the_client_says_what_to_do() -> None:
    ch = _challenge('Bearer error="invalid_token", error_description="expired"')
    err = token_refusal(401, ch, WHERE, method="tools/list")
    assert isinstance(err, InvalidTokenError)
    assert err.status == 401 and err.challenge is ch
    assert err.user_message == (
        f"The MCP server at {WHERE} did not accept the access token (invalid_token: expired). "
        "Refresh the token or sign in again."
    )


def test_401_for_the_bridge_after_its_refresh() -> None:
    err = token_refusal(401, None, WHERE, after_refresh=True, advice=False)
    assert isinstance(err, InvalidTokenError) and err.challenge is None
    assert err.user_message == (
        f"The MCP server at {WHERE} did not accept the access token even after a refresh (HTTP 401)."
    )


def test_403_insufficient_scope_names_the_request_and_the_scopes() -> None:
    ch = _challenge('Bearer error="insufficient_scope", scope="mcp:read admin:write"')
    client = token_refusal(403, ch, WHERE, method="tools/call")
    bridge = token_refusal(403, ch, WHERE, after_refresh=True, advice=False)
    assert isinstance(client, InsufficientScopeError) and isinstance(bridge, InsufficientScopeError)
    assert client.scopes == bridge.scopes == ("mcp:read", "admin:write")
    assert client.status == 403 and client.challenge is ch and bridge.challenge is ch
    assert client.user_message == (
        f"The MCP server at {WHERE} needs more permissions for tools/call "
        "(scopes: mcp:read admin:write). Sign in again to grant them."
    )
    # The bridge's step-up appends ". To grant them, sign in again: mcp-auth login ..."
    assert bridge.user_message == f"The MCP server at {WHERE} needs more permissions (scopes: mcp:read admin:write)"


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (403, 'Bearer error="invalid_token"'),  # a 403 that is not about scopes
        (403, ""),
        (404, 'Bearer error="insufficient_scope", scope="x"'),
        (400, ""),
        (500, ""),
        (200, ""),
    ],
)
def test_anything_else_is_not_a_token_refusal(status: int, header: str) -> None:
    assert token_refusal(status, _challenge(header) if header else None, WHERE, method="m") is None


def test_match_response_picks_our_answer_only() -> None:
    ours = {"jsonrpc": "2.0", "id": 7, "result": {}}
    assert match_response(ours, 7) is ours
    assert match_response([{"jsonrpc": "2.0", "method": "notifications/x"}, ours], 7) is ours
    assert match_response({"jsonrpc": "2.0", "id": True, "result": {}}, 1) is None  # True == 1, not an id
    assert match_response({"jsonrpc": "2.0", "id": 7, "method": "ping"}, 7) is None  # a request, not a reply
    assert match_response({"jsonrpc": "2.0", "id": 8, "result": {}}, 7) is None


def test_media_type_drops_parameters_and_case() -> None:
    resp = httpx.Response(200, headers={"content-type": "Application/JSON; charset=utf-8"})
    assert media_type(resp) == "application/json"
    assert media_type(httpx.Response(204)) == ""


async def test_read_capped_refuses_a_body_over_the_cap() -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 100

    assert await read_capped(httpx.Response(200, content=b"y" * 400), 400, WHERE, "response") == b"y" * 400
    with pytest.raises(ResponseTooLargeError, match=r"sent a message larger than 399 bytes"):
        await read_capped(httpx.Response(200, content=body()), 399, WHERE, "message")
