"""Scriptable fakes for flow tests: an AS/RS behind httpx.MockTransport, a listener, a browser.

``FakeAS`` serves https://mcp.example.com (resource server) and
https://auth.example.com (authorization server) from one MockTransport
handler. Each document and answer is a plain attribute a test can change
to play a hostile or broken server; every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.ports import BrowserOpener, CallbackListener, Clock

from ._helpers import FakeClock, public_resolver

MCP = "https://mcp.example.com/mcp"
ISSUER = "https://auth.example.com"


def default_as_doc(issuer: str = ISSUER) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "registration_endpoint": issuer + "/register",
        "revocation_endpoint": issuer + "/revoke",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": ["files:read", "files:write", "offline_access"],
        "authorization_response_iss_parameter_supported": True,
    }


@dataclass
class FakeAS:
    prm: dict[str, Any] | None = field(default_factory=lambda: {
        "resource": MCP, "authorization_servers": [ISSUER], "scopes_supported": ["files:read"]})
    prm_paths: tuple[str, ...] = ("/.well-known/oauth-protected-resource/mcp",)
    as_doc: dict[str, Any] | None = field(default_factory=default_as_doc)
    as_paths: tuple[str, ...] = ("/.well-known/oauth-authorization-server",)
    token_responses: list[tuple[int, dict[str, Any] | None, dict[str, str]]] = field(default_factory=list)
    registration_responses: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    revoke_status: int = 200
    send_iss: bool = True
    iss_value: str | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    registrations: int = 0
    codes: int = 0
    code_prefix: str = "code"
    extra_routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport(), follow_redirects=False)

    def log(self) -> list[str]:
        return [f"{r.method} {r.url.copy_with(query=None)}" for r in self.requests]

    def forms(self, path: str) -> list[dict[str, str]]:
        return [dict(parse_qsl(b.decode())) for r, b in zip(self.requests, self.bodies, strict=True)
                if r.url.path == path and r.method == "POST"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.requests.append(request)
        self.bodies.append(body)
        host, path, method = request.url.host, request.url.path, request.method
        key = (method, f"{request.url.scheme}://{host}{path}")
        if key in self.extra_routes:
            return self.extra_routes[key](request)
        if host == "mcp.example.com" and method == "GET" and path in self.prm_paths and self.prm is not None:
            return httpx.Response(200, json=self.prm)
        if host == "auth.example.com":
            if method == "GET" and path in self.as_paths and self.as_doc is not None:
                return httpx.Response(200, json=self.as_doc)
            if method == "POST" and path == "/register":
                self.registrations += 1
                if self.registration_responses:
                    status, doc = self.registration_responses.pop(0)
                    return httpx.Response(status, json=doc)
                doc = json.loads(body)
                return httpx.Response(201, json={
                    "client_id": f"client-{self.registrations}", "redirect_uris": doc["redirect_uris"],
                    "token_endpoint_auth_method": doc.get("token_endpoint_auth_method", "none"),
                    "registration_access_token": f"rat-{self.registrations}",
                    "registration_client_uri": f"{ISSUER}/register/client-{self.registrations}",
                })
            if method == "GET" and path == "/authorize":
                q = dict(parse_qsl(request.url.query.decode()))
                self.codes += 1
                params = {"code": f"{self.code_prefix}-{self.codes}", "state": q["state"]}
                if self.send_iss:
                    params["iss"] = self.iss_value or ISSUER
                return httpx.Response(302, headers={"location": q["redirect_uri"] + "?" + urlencode(params)})
            if method == "POST" and path == "/token":
                if self.token_responses:
                    status, answer, headers = self.token_responses.pop(0)
                    return httpx.Response(status, json=answer, headers=headers) if answer is not None else httpx.Response(status, headers=headers)
                return httpx.Response(200, json={"access_token": f"at-{len(self.requests)}", "token_type": "Bearer",
                                                 "expires_in": 3600, "refresh_token": f"rt-{len(self.requests)}"})
            if method == "POST" and path == "/revoke":
                return httpx.Response(self.revoke_status)
            if method == "DELETE" and path.startswith("/register/"):
                return httpx.Response(204)
        return httpx.Response(404, json={"error": "not_found"})


class FakeListener:
    """Stands in for core.loopback.LoopbackListener; the browser fake delivers to it."""

    instances: list[FakeListener] = []

    def __init__(self, *, port: int = 0, timeout: float = 300.0) -> None:
        self.port = port or 54321
        self.timeout = timeout
        self.states: list[str] = []
        self.reports: list[tuple[bool, str]] = []
        self.queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.open = False
        FakeListener.instances.append(self)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def expect_state(self, state: str) -> None:
        self.states.append(state)

    def start_page(self, authorization_url: str) -> str:
        # No server here: the fake browser goes straight to the authorization URL.
        return authorization_url

    async def wait(self) -> dict[str, str]:
        return await asyncio.wait_for(self.queue.get(), 5)

    def report(self, ok: bool, message: str) -> None:
        self.reports.append((ok, message))

    def deliver(self, params: dict[str, str]) -> None:
        self.queue.put_nowait(params)

    async def __aenter__(self) -> FakeListener:
        self.open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.open = False


class FollowingBrowser:
    """GETs the authorization URL through ``http`` and hands the redirect's query to the listener.

    ``tamper`` lets a test play an attacker or a broken AS between the two.
    """

    def __init__(self, http: httpx.AsyncClient, tamper: Callable[[dict[str, str]], dict[str, str]] | None = None) -> None:
        self.http = http
        self.tamper = tamper
        self.opened: list[str] = []

    async def open(self, url: str) -> None:
        self.opened.append(url)
        response = await self.http.get(url)
        location = response.headers["location"]
        params = dict(parse_qsl(urlsplit(location).query))
        if self.tamper:
            params = self.tamper(params)
        FakeListener.instances[-1].deliver(params)


def server(url: str = MCP, **kw: Any) -> ServerConfig:
    opts = kw.pop("options", None) or ServerOptions()
    return ServerConfig(id="s1", name="Example", url=url, options=opts, **kw)


def make_client(fake: FakeAS, http: httpx.AsyncClient, *, tamper: Any = None, clock: FakeClock | None = None):  # type: ignore[no-untyped-def]
    from mcp_auth_desktop.core.flow import OAuthClient

    browser = FollowingBrowser(http, tamper)
    client = OAuthClient(http, clock=clock or FakeClock(), browser=browser, listener_factory=FakeListener,
                         resolver=public_resolver)
    return client, browser


if TYPE_CHECKING:
    # `make typecheck` proves each fake implements the port it stands in for (core/ports.py).
    def _ports(b: FollowingBrowser, li: FakeListener, c: FakeClock) -> tuple[BrowserOpener, CallbackListener, Clock]:
        return b, li, c
