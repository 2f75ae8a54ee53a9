"""Reusable helpers for tests that need the mock server (any test package may import them).

- ``MockProcess`` / ``start_mock_process()``: the real ``python -m mock_server`` on port 0,
  reading the MCP URL from the first stdout line; ``stop()`` terminates it.
- ``make_app()`` / ``asgi_client()``: the in-process app and an httpx client bound to it.
- ``pkce_pair()``, ``register_public_client()``, ``authorize_code()`` (needs --auto-approve /
  ``auto_approve=True``), ``obtain_tokens()``: a tiny independent OAuth client for tests.
- Fixtures ``mock_process`` and ``mock_app``; import them into a conftest to use them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import selectors
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from mock_server import MockConfig, MockState, create_app

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTROL_TOKEN_ENV = "MCP_AUTH_MOCK_CONTROL_TOKEN"
BASE_URL = "http://127.0.0.1:8000"
LOOPBACK_REDIRECT = "http://127.0.0.1/callback"


@dataclass
class MockProcess:
    """A running ``python -m mock_server`` process."""

    proc: subprocess.Popen[str]
    mcp_url: str
    control_token: str
    args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.mcp_url.rsplit("/", 1)[0]

    @property
    def issuer(self) -> str:
        path = ""
        if "--issuer-path" in self.args:
            path = self.args[self.args.index("--issuer-path") + 1]
        return self.base_url + path

    def control(self, *, via: str | None = None, **body: Any) -> dict[str, Any]:
        """POST /__mock__/control, e.g. ``control(knobs={"fail_next": 2})`` or ``control(advance_clock=600)``.

        ``via`` is the base URL to connect to when it differs from the advertised one.
        """
        request = urllib.request.Request(
            (via or self.base_url) + "/__mock__/control",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Mock-Control-Token": self.control_token},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
            result: dict[str, Any] = json.loads(response.read())
        return result

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def start_mock_process(*args: str, timeout: float = 20.0, env: dict[str, str] | None = None) -> MockProcess:
    """Start the server on 127.0.0.1 port 0 (unless args say otherwise) and wait for its URL."""
    token = secrets.token_urlsafe(24)
    full_env = {**os.environ, CONTROL_TOKEN_ENV: token, **(env or {})}
    argv = list(args)
    if "--port" not in argv:
        argv = ["--port", "0", *argv]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_server", *argv],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=full_env,
    )
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                raise RuntimeError("mock server did not print its URL")
            if selector.select(timeout=min(remaining, 0.5)):
                line = proc.stdout.readline().strip()
                if not line.startswith("http"):
                    raise RuntimeError(f"unexpected first line from mock server: {line!r}")
                return MockProcess(proc, line, token, argv)
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise
    finally:
        selector.close()


@contextmanager
def running_mock(*args: str) -> Iterator[MockProcess]:
    """:func:`start_mock_process`, stopped again on leaving (the body of most fixtures)."""
    proc = start_mock_process(*args)
    try:
        yield proc
    finally:
        proc.stop()


def make_app(**overrides: Any) -> tuple[Starlette, MockState]:
    """In-process app; defaults to base URL http://127.0.0.1:8000 with auto-approve on."""
    overrides.setdefault("auto_approve", True)
    overrides.setdefault("base_url", BASE_URL)
    app = create_app(MockConfig(**overrides))
    state: MockState = app.state.mock
    return app, state


def asgi_client(app: Starlette, base_url: str = BASE_URL, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
        base_url=base_url,
        **kwargs,
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def register_public_client(
    http: httpx.AsyncClient, issuer: str, *, redirect_uri: str = LOOPBACK_REDIRECT, **metadata: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "application_type": "native",
        "client_name": "Test client",
        **metadata,
    }
    response = await http.post(issuer + "/register", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@dataclass
class AuthorizationResult:
    code: str
    verifier: str
    redirect_uri: str
    state: str
    iss: str | None


async def authorize_code(
    http: httpx.AsyncClient,
    issuer: str,
    client_id: str,
    *,
    resource: str,
    scope: str = "mcp:read",
    redirect_uri: str = "http://127.0.0.1:49152/callback",
) -> AuthorizationResult:
    """Run /authorize against an auto-approving server and return the code from the redirect."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    response = await http.get(
        issuer + "/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            "scope": scope,
            "resource": resource,
        },
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri.split("?")[0].rsplit(":", 1)[0])
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    assert "code" in query, location
    return AuthorizationResult(query["code"][0], verifier, redirect_uri, state, query.get("iss", [None])[0])


async def exchange_code(
    http: httpx.AsyncClient, issuer: str, client_id: str, auth: AuthorizationResult, *, resource: str
) -> httpx.Response:
    return await http.post(
        issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": auth.code,
            "redirect_uri": auth.redirect_uri,
            "client_id": client_id,
            "code_verifier": auth.verifier,
            "resource": resource,
        },
    )


async def refresh(
    http: httpx.AsyncClient, issuer: str, client_id: str, refresh_token: str, *, resource: str, **extra: str
) -> httpx.Response:
    return await http.post(
        issuer + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "resource": resource,
            **extra,
        },
    )


async def obtain_tokens(
    http: httpx.AsyncClient, issuer: str, resource: str, *, scope: str = "mcp:read"
) -> tuple[str, dict[str, Any]]:
    """Register a public client, authorize (auto-approve) and exchange: (client_id, token body)."""
    client = await register_public_client(http, issuer)
    auth = await authorize_code(http, issuer, client["client_id"], resource=resource, scope=scope)
    response = await exchange_code(http, issuer, client["client_id"], auth, resource=resource)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return client["client_id"], body


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
#: The legacy handshake's first request.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
#: A request that needs a valid token and nothing else (no session is checked before the token).
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


async def mcp_initialize(http: httpx.AsyncClient, mcp_url: str, token: str) -> dict[str, str]:
    """initialize + notifications/initialized; returns the headers for later calls."""
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    response = await http.post(mcp_url, headers=headers, json=INITIALIZE)
    assert response.status_code == 200, response.text
    headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
    headers["MCP-Protocol-Version"] = response.json()["result"]["protocolVersion"]
    note = await http.post(mcp_url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert note.status_code == 202
    return headers


async def bearer_status(
    http: httpx.AsyncClient, mcp_url: str, token: str, message: dict[str, Any] = INITIALIZE
) -> int:
    """The HTTP status the MCP endpoint answers ``message`` with, sent with ``token``
    (200 for a live token, 401 for a revoked or unknown one)."""
    response = await http.post(mcp_url, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}, json=message)
    return response.status_code


async def call_tool(
    http: httpx.AsyncClient, mcp_url: str, headers: dict[str, str], name: str, arguments: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(
        mcp_url,
        headers=headers,
        json={"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments or {}}},
    )


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def mock_process() -> Iterator[MockProcess]:
    """A real server process with --auto-approve and the control endpoint enabled."""
    server = start_mock_process("--auto-approve")
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def mock_app() -> AsyncIterator[tuple[MockState, httpx.AsyncClient]]:
    """(state, client) for an in-process app on http://127.0.0.1:8000 with auto-approve."""
    app, state = make_app()
    async with asgi_client(app) as http:
        yield state, http
    state.close()
