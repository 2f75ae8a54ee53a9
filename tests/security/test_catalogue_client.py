"""Security catalogue, CLIENT items, end to end through the real OAuthClient.

The pure functions have their own tests under tests/core; these check the
property the catalogue actually asks for at the flow level: a forged or
broken answer stops the flow *before* a secret leaves the machine (no token
request, no browser launch). The scripted authorization server, listener and
browser come from tests/core/_fakes.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import pytest

from mcp_auth_desktop.core.errors import (
    AuthorizationDenied,
    CallbackError,
    InsecureUrlError,
    McpAuthError,
    MetadataError,
)
from mcp_auth_desktop.core.models import CredentialKey, ServerOptions
from mcp_auth_desktop.core.oauth import parse_token_response
from tests.core._fakes import ISSUER, MCP, FakeAS, make_client, server
from tests.core._helpers import FakeClock

Tamper = Callable[[dict[str, str]], dict[str, str]]


async def _sign_in(fake: FakeAS, tamper: Tamper | None = None) -> tuple[list[str], Any]:
    """Run one sign-in; return (URLs the browser was asked to open, outcome or exception)."""
    async with aclosing(fake.client()) as http:
        client, browser = make_client(fake, http, tamper=tamper)
        srv = server()
        try:
            d = await client.discover(srv)
            outcome: Any = await client.sign_in(srv, d, None, scopes=("files:read",))
        except McpAuthError as exc:
            outcome = exc
        return browser.opened, outcome


def _set(**over: str | None) -> Tamper:
    def tamper(params: dict[str, str]) -> dict[str, str]:
        out = dict(params)
        for k, v in over.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    return tamper


# ---------------------------------------------------------------- 1: CSRF via state


@pytest.mark.parametrize(
    "tamper",
    [_set(state="forged-state-value-forged-state-value"), _set(state=None), _set(state="")],
    ids=["foreign", "missing", "empty"],
)
async def test_catalogue_1_bad_state_never_reaches_the_token_endpoint(tamper: Tamper) -> None:
    fake = FakeAS()
    opened, outcome = await _sign_in(fake, tamper)
    assert opened, "the browser step ran"
    assert isinstance(outcome, CallbackError) and "state" in outcome.user_message
    assert fake.forms("/token") == []


async def test_catalogue_1_state_of_a_finished_flow_is_refused_by_the_next_one() -> None:
    fake = FakeAS()
    first_state: list[str] = []

    def remember(params: dict[str, str]) -> dict[str, str]:
        first_state.append(params["state"])
        return params

    _, ok = await _sign_in(fake, remember)
    assert not isinstance(ok, Exception)
    before = len(fake.forms("/token"))
    _, outcome = await _sign_in(fake, _set(state=first_state[0]))
    assert isinstance(outcome, CallbackError)
    assert len(fake.forms("/token")) == before
    assert len(first_state[0]) >= 22  # >= 128 bits of base64url


# ---------------------------------------------------------------- 2: mix-up via iss


@pytest.mark.parametrize(
    "iss",
    [
        None,  # absent while the metadata promises it
        "https://evil.example.com",
        "HTTPS://auth.example.com",
        "https://AUTH.example.com",
        "https://auth.example.com:443",
        "https://auth.example.com/",
        "https://auth.example.co%6D",
    ],
)
async def test_catalogue_2_iss_mismatch_never_reaches_the_token_endpoint(iss: str | None) -> None:
    fake = FakeAS()
    _, outcome = await _sign_in(fake, _set(iss=iss))
    assert isinstance(outcome, CallbackError)
    assert fake.forms("/token") == []


async def test_catalogue_2_error_from_a_mixed_up_server_is_not_shown() -> None:
    fake = FakeAS()
    hostile = _set(code=None, iss="https://evil.example.com", error="access_denied",
                   error_description="Call +1-555 support now")
    _, outcome = await _sign_in(fake, hostile)
    assert isinstance(outcome, CallbackError) and not isinstance(outcome, AuthorizationDenied)
    assert "555" not in outcome.user_message and "access_denied" not in outcome.user_message


# ---------------------------------------------------------------- 3: forged AS metadata


@pytest.mark.parametrize(
    "change",
    [
        {"issuer": "https://honest.example.com"},
        {"issuer": ISSUER + "/tenant2"},
        {"issuer": "http://auth.example.com"},
        {"code_challenge_methods_supported": None},
        {"code_challenge_methods_supported": ["plain"]},
        {"token_endpoint": 42},
    ],
    ids=["other-host", "other-tenant", "http-issuer", "no-pkce", "plain-only", "non-string-endpoint"],
)
async def test_catalogue_3_forged_metadata_stops_before_the_browser(change: dict[str, Any]) -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    for key, value in change.items():
        if value is None:
            fake.as_doc.pop(key, None)
        else:
            fake.as_doc[key] = value
    opened, outcome = await _sign_in(fake)
    assert isinstance(outcome, MetadataError | InsecureUrlError)
    assert opened == [] and fake.forms("/token") == [] and fake.registrations == 0


# ---------------------------------------------------------------- 6: non-TLS endpoints


@pytest.mark.parametrize(
    "endpoint",
    ["http://auth.example.com/token", "http://127.0.0.1.nip.io/token", "http://localhost.evil.com/token"],
)
async def test_catalogue_6_plain_http_token_endpoint_is_refused_before_any_secret(endpoint: str) -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    fake.as_doc["token_endpoint"] = endpoint
    opened, outcome = await _sign_in(fake)
    assert isinstance(outcome, InsecureUrlError | MetadataError)
    assert opened == [] and not [r for r in fake.requests if r.url.scheme == "http"]


# ---------------------------------------------------------------- 7: hostile authorization URL


@pytest.mark.parametrize(
    "endpoint",
    [
        "javascript:alert(1)",
        "data:text/html,<script>x</script>",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "https://auth.example.com/authorize$(touch${IFS}/tmp/pwned)",
        "https://auth.example.com/authorize\"&calc.exe",
        "https://auth.example.com/authorize`id`",
    ],
)
async def test_catalogue_7_hostile_authorization_endpoint_never_reaches_the_browser(endpoint: str) -> None:
    fake = FakeAS()
    assert fake.as_doc is not None
    fake.as_doc["authorization_endpoint"] = endpoint
    opened, outcome = await _sign_in(fake)
    assert isinstance(outcome, InsecureUrlError | MetadataError)
    assert opened == []
    assert fake.forms("/token") == []


# ---------------------------------------------------------------- 10: audience / resource


async def test_catalogue_10_resource_is_sent_everywhere_and_keys_tokens() -> None:
    fake = FakeAS()
    async with aclosing(fake.client()) as http:
        client, browser = make_client(fake, http)
        srv = server()
        d = await client.discover(srv)
        reg, tokens = await client.sign_in(srv, d, None, scopes=("files:read",))
        await client.refresh(d, reg, tokens, resource=client.resource_for(srv, d))
    assert f"resource={MCP.replace(':', '%3A').replace('/', '%2F')}" in browser.opened[0]
    forms = fake.forms("/token")
    assert [f["grant_type"] for f in forms] == ["authorization_code", "refresh_token"]
    assert all(f["resource"] == MCP for f in forms)
    assert tokens.resource == MCP
    # Tokens are stored under (issuer, client_id, resource): another resource is another entry.
    a = CredentialKey(ISSUER, reg.client_id, MCP).storage_name()
    b = CredentialKey(ISSUER, reg.client_id, "https://other.example.com/mcp").storage_name()
    c = CredentialKey("https://other-as.example.com", reg.client_id, MCP).storage_name()
    assert len({a, b, c}) == 3


async def test_catalogue_10_resource_override_is_honoured_and_omission_is_explicit() -> None:
    fake = FakeAS()
    async with aclosing(fake.client()) as http:
        client, _ = make_client(fake, http)
        srv = server(options=ServerOptions(omit_resource=True))
        d = await client.discover(srv)
        assert client.resource_for(srv, d) is None
        assert client.resource_for(server(), d) == MCP


# ---------------------------------------------------------------- 14: clock skew


def _jwt(claims: dict[str, Any]) -> str:
    def seg(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return seg({"alg": "ES256", "typ": "at+jwt"}) + "." + seg(claims) + ".c2ln"


@pytest.mark.parametrize("exp_offset", [-7200, 7200, None])
def test_catalogue_14_expiry_is_receipt_time_plus_expires_in_never_the_jwt(exp_offset: int | None) -> None:
    now = FakeClock().now
    claims = {"sub": "u"} if exp_offset is None else {"sub": "u", "exp": int(now + exp_offset)}
    tokens = parse_token_response(
        200,
        {"Date": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"access_token": _jwt(claims), "token_type": "Bearer", "expires_in": 600},
        now=now,
    )
    assert tokens.expires_at == now + 600 and tokens.issued_at == now
