"""Client adapter for the official MCP conformance suite (``@modelcontextprotocol/conformance``).

Run as ``python -m tests.conformance.adapter <server-url>``; the suite sets
``MCP_CONFORMANCE_SCENARIO`` and, for some scenarios, ``MCP_CONFORMANCE_CONTEXT``.

It drives OUR core end to end, the way the app does:

* :class:`~mcp_auth_desktop.core.mcp.McpClient` to connect (``server/discover``
  for 2026-07-28 servers, ``initialize`` for older ones), ``tools/list`` and
  ``tools/call`` (see :func:`planned_calls` for which tools, with what);
* on 401: refresh once if we hold a refresh token, else discovery (with the
  challenge), client identity (pre-registered from the context / CIMD /
  DCR), scope choice and sign-in through :class:`OAuthClient`;
* on 403 ``insufficient_scope``: step-up with the union of scopes;
* at most :data:`MAX_AUTHORIZATIONS` authorization requests in all.

The "browser" is :class:`HeadlessUserAgent`, a BrowserOpener that GETs the
authorization URL without following redirects and delivers the ``Location``
to our real :class:`LoopbackListener` by an HTTP request, as a browser would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from mcp_auth_desktop.core.errors import (
    AuthorizationError,
    InsufficientScopeError,
    InvalidGrantError,
    InvalidTokenError,
    McpAuthError,
    McpProtocolError,
    SignInRequiredError,
)
from mcp_auth_desktop.core.flow import OAuthClient
from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.loopback import is_start_page
from mcp_auth_desktop.core.mcp import McpClient, accept_defaults
from mcp_auth_desktop.core.models import (
    ClientRegistration,
    Discovery,
    ServerConfig,
    ServerOptions,
    TokenSet,
)
from mcp_auth_desktop.core.oauth import union_scopes
from mcp_auth_desktop.core.www_authenticate import BearerChallenge

log = logging.getLogger("conformance.adapter")

CIMD_URL = "https://conformance-test.local/client-metadata.json"
MAX_AUTHORIZATIONS = 3
TOOL_NAME = "test-tool"
#: The JSON Schema preservation scenario's echo tool (its documented instructions:
#: send the other tool's inputSchema back, verbatim, as the ``schema`` argument).
ECHO_TOOL = "json_schema_echo"
MAX_CALLS = 20


# --------------------------------------------------------------------------- pure helpers


def parse_context(raw: str | None) -> dict[str, Any]:
    """``MCP_CONFORMANCE_CONTEXT`` as a dict ({} when absent or not a JSON object)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def server_config_for(url: str, context: Mapping[str, Any]) -> tuple[ServerConfig, str | None]:
    """The ServerConfig the app would hold for this server, and the client secret (if any).

    The suite's servers are plain http on localhost, so the loopback opt-in is on.
    A ``client_id`` in the context is a pre-registered client using HTTP Basic.
    """
    client_id = context.get("client_id")
    secret = context.get("client_secret")
    client_id = client_id if isinstance(client_id, str) and client_id else None
    secret = secret if isinstance(secret, str) and secret else None
    config = ServerConfig(
        id="conformance",
        name="conformance",
        url=url,
        client_id=client_id,
        client_auth_method=("client_secret_basic" if secret else "none") if client_id else None,
        options=ServerOptions(allow_insecure_loopback=True, client_metadata_url=CIMD_URL),
    )
    return config, secret if client_id else None


def redirect_location(status: int, headers: Mapping[str, str], base: str) -> str | None:
    """Where a redirect response sends the user agent (absolute), or None if it is no redirect."""
    if status not in (301, 302, 303, 307, 308):
        return None
    location = headers.get("location")
    if not location:
        return None
    return urljoin(base, location)


def arguments_for(schema: Any) -> dict[str, Any]:
    """Plain arguments satisfying a tool's ``inputSchema`` (required properties only)."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties")
    required = schema.get("required")
    if not isinstance(props, dict) or not isinstance(required, list):
        return {}
    samples: dict[str, Any] = {
        "number": 1,
        "integer": 1,
        "string": "conformance",
        "boolean": False,
        "array": [],
        "object": {},
    }
    out: dict[str, Any] = {}
    for name in required:
        prop = props.get(name)
        kind = prop.get("type") if isinstance(prop, dict) else None
        if isinstance(name, str):
            out[name] = samples.get(kind if isinstance(kind, str) else "string", "conformance")
    return out


def pick_tool(tools: list[dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """``test-tool`` when the server has it, else the first tool, with arguments for it."""
    for tool in tools:
        if tool.get("name") == TOOL_NAME:
            return TOOL_NAME, arguments_for(tool.get("inputSchema"))
    if tools and isinstance(tools[0].get("name"), str):
        return tools[0]["name"], arguments_for(tools[0].get("inputSchema"))
    return None


def planned_calls(
    scenario: str, tools: list[dict[str, Any]], context: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Which tools to call, with which arguments.

    * the calls the scenario's context names (``toolCalls``), when it names any;
    * auth scenarios: ``test-tool`` (else the first tool), as a user would;
    * otherwise every listed tool, each with arguments from its schema, the echo
      tool with the other tool's ``inputSchema`` unchanged.
    """
    named = context.get("toolCalls")
    if isinstance(named, list) and named:
        return [
            (c["name"], c.get("arguments") if isinstance(c.get("arguments"), dict) else {})
            for c in named[:MAX_CALLS]
            if isinstance(c, dict) and isinstance(c.get("name"), str)
        ]
    if scenario.startswith("auth/"):
        picked = pick_tool(tools)
        return [picked] if picked else [(TOOL_NAME, {})]
    schemas = [t.get("inputSchema") for t in tools if t.get("name") != ECHO_TOOL]
    calls: list[tuple[str, dict[str, Any]]] = []
    for tool in tools[:MAX_CALLS]:
        name = tool.get("name")
        if not isinstance(name, str):
            continue
        if name == ECHO_TOOL and schemas and isinstance(schemas[0], dict):
            calls.append((name, {"schema": schemas[0]}))
        else:
            calls.append((name, arguments_for(tool.get("inputSchema"))))
    return calls


@dataclass
class AuthBudget:
    """Counts authorization requests over the whole run."""

    limit: int = MAX_AUTHORIZATIONS
    used: int = 0

    def take(self, why: str) -> None:
        if self.used >= self.limit:
            raise SignInRequiredError(
                f"Giving up: {why} after {self.limit} authorization requests."
            )
        self.used += 1


# --------------------------------------------------------------------------- the "browser"


@dataclass
class HeadlessUserAgent:
    """A BrowserOpener without a browser: follows the AS's redirect to our loopback listener."""

    http: httpx.AsyncClient
    deliveries: list[asyncio.Task[None]] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)

    async def open(self, url: str) -> None:
        self.opened.append(url)
        if is_start_page(url):
            # The app's single-use loopback start page redirects to the authorization URL.
            start = await self.http.get(url, follow_redirects=False)
            url = redirect_location(start.status_code, start.headers, url) or url
        resp = await self.http.get(url, follow_redirects=False)
        target = redirect_location(resp.status_code, resp.headers, url)
        if target is None:
            raise AuthorizationError(
                f"The authorization server answered HTTP {resp.status_code} instead of redirecting back."
            )
        if urlsplit(target).scheme not in ("http", "https"):
            raise AuthorizationError("The authorization server redirected to a non-http URL.")
        # Delivered in the background, as a browser would: our listener answers the
        # page only after the app has exchanged the code (it waits for report()).
        self.deliveries.append(asyncio.create_task(self._deliver(target)))

    async def _deliver(self, target: str) -> None:
        try:
            resp = await self.http.get(target, follow_redirects=False)
            log.info("callback page: HTTP %d", resp.status_code)
        except httpx.HTTPError as exc:
            log.info("callback delivery failed: %s", type(exc).__name__)

    async def drain(self) -> None:
        if self.deliveries:
            await asyncio.wait(self.deliveries, timeout=5.0)
        for t in self.deliveries:
            t.cancel()


# --------------------------------------------------------------------------- the run


@dataclass
class Session:
    """What the app would keep for the server between requests."""

    server: ServerConfig
    client_secret: str | None
    oauth: OAuthClient
    discovery: Discovery | None = None
    registration: ClientRegistration | None = None
    tokens: TokenSet | None = None
    requested: tuple[str, ...] = ()
    refreshed_since_sign_in: bool = False
    budget: AuthBudget = field(default_factory=AuthBudget)

    async def token(self) -> str | None:
        return self.tokens.access_token if self.tokens else None

    async def authorize(self, challenge: BearerChallenge | None, *, step_up: bool) -> None:
        self.budget.take("the server keeps refusing access")
        if self.discovery is None or challenge is not None and challenge.resource_metadata:
            self.discovery = await self.oauth.discover(self.server, challenge=challenge)
        challenged = challenge.scope if challenge and challenge.scope else ()
        scopes = self.oauth.select_scopes(
            self.server,
            self.discovery,
            previous=self.requested if step_up else (),
            challenged=challenged,
        )
        if step_up:
            scopes = union_scopes(self.requested, scopes)
        log.info("authorization request %d, scopes %r", self.budget.used, " ".join(scopes))
        self.registration, self.tokens = await self.oauth.sign_in(
            self.server,
            self.discovery,
            self.registration,
            scopes=scopes,
            client_secret=self.client_secret,
        )
        self.requested = scopes
        self.refreshed_since_sign_in = False

    async def after_401(self, challenge: BearerChallenge | None) -> None:
        if (
            self.tokens is not None
            and self.tokens.refresh_token
            and self.discovery is not None
            and self.registration is not None
            and not self.refreshed_since_sign_in
        ):
            self.refreshed_since_sign_in = True
            try:
                self.tokens = await self.oauth.refresh(
                    self.discovery,
                    self.registration,
                    self.tokens,
                    resource=self.oauth.resource_for(self.server, self.discovery),
                )
                log.info("refreshed the access token after a 401")
                return
            except (InvalidGrantError, SignInRequiredError) as exc:
                log.info("refresh failed (%s); signing in", type(exc).__name__)
        await self.authorize(challenge, step_up=False)


async def call_with_auth(session: Session, op: Any, what: str) -> Any:
    """Run one MCP operation, handling 401 and 403 insufficient_scope until the budget is spent."""
    while True:
        try:
            return await op()
        except InvalidTokenError as exc:
            log.info("%s: 401", what)
            await session.after_401(exc.challenge)
        except InsufficientScopeError as exc:
            log.info("%s: 403 insufficient_scope %r", what, " ".join(exc.scopes))
            await session.authorize(exc.challenge, step_up=True)


async def run(url: str, scenario: str, context: Mapping[str, Any]) -> None:
    server, secret = server_config_for(url, context)
    async with make_http_client(timeout=10.0) as http:
        agent = HeadlessUserAgent(http)
        oauth = OAuthClient(http, browser=agent, authorization_timeout=15.0)
        session = Session(server=server, client_secret=secret, oauth=oauth)
        # The scenarios' user accepts what a server's form suggests (SEP-1034 defaults).
        mcp = McpClient(http, url, token_provider=session.token, elicitation=accept_defaults)
        try:
            await call_with_auth(session, mcp.connect, "connect")
            log.info("protocol %s (%s)", mcp.protocol_version, mcp.era.era.value if mcp.era else "?")
            tools = await call_with_auth(session, mcp.list_tools, "tools/list")
            log.info("tools: %s", [t.get("name") for t in tools])
            for name, arguments in planned_calls(scenario, tools, context):
                try:
                    result = await call_with_auth(
                        session, lambda n=name, a=arguments: mcp.call_tool(n, a), "tools/call"
                    )
                except McpProtocolError as exc:
                    if exc.code is None or scenario.startswith("auth/"):
                        raise
                    # The server answered with a JSON-RPC error (some scenario servers
                    # implement only tools/list): its answer, not a client failure.
                    log.info("tools/call %s: JSON-RPC error %s", name, exc.code)
                    continue
                log.info("tools/call %s isError=%s", name, result.get("isError"))
        finally:
            with contextlib.suppress(McpAuthError, httpx.HTTPError):
                await mcp.aclose()
            await agent.drain()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args:
        print("usage: python -m tests.conformance.adapter <server-url>", file=sys.stderr)
        return 2
    url = args[-1]
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    context = parse_context(os.environ.get("MCP_CONFORMANCE_CONTEXT"))
    log.info("scenario %s against %s", scenario or "(none)", url)
    try:
        asyncio.run(run(url, scenario, context))
    except McpAuthError as exc:
        print(f"conformance adapter: {type(exc).__name__}: {exc.user_message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
