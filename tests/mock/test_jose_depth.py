"""A bearer token whose segments nest JSON thousands deep is refused with 401, not a 500."""

from __future__ import annotations

import pytest

from mock_server.jose import JoseError, b64url_encode, split_token
from tests.mock.helpers import asgi_client, make_app


def _deep_token() -> str:
    return b64url_encode(b"[" * 3000) + ".e30.AA"


def test_split_token_refuses_deep_nesting() -> None:
    with pytest.raises(JoseError):
        split_token(_deep_token())


async def test_mcp_endpoint_answers_401_to_a_deeply_nested_token() -> None:
    app, _state = make_app()
    async with asgi_client(app) as client:
        r = await client.post(
            "/mcp",
            headers={"Authorization": f"Bearer {_deep_token()}", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
