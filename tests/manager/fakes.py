"""Test doubles for the manager: a movable clock and a scripted OAuth client.

``FakeOAuth`` behaves like a small authorization server: it issues tokens
with a counter, rotates refresh tokens, treats a reused refresh token as
``invalid_grant`` (like a real AS with rotation), and can be told to fail
the next refreshes with any error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Unpack

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.models import (
    AuthServerMetadata,
    ClientRegistration,
    Discovery,
    ServerConfig,
    TokenSet,
)
from mcp_auth_desktop.core.ports import Clock, McpClientLike, OAuthClientLike, SignInOptions
from mcp_auth_desktop.core.state import RevocationReport


class FakeClock:
    def __init__(self, wall: float = 1_700_000_000.0, mono: float = 1000.0) -> None:
        self.wall = wall
        self.mono = mono

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def jump_wall(self, seconds: float) -> None:
        """A suspend or clock change: the wall clock moves, the monotonic one does not."""
        self.wall += seconds


@dataclass
class FakeOAuth:
    clock: FakeClock
    lifetime: float = 3600.0
    revocation_endpoint: str | None = "https://as.example/revoke"
    registration_endpoint: str | None = "https://as.example/register"
    issuer: str = "https://as.example"
    refresh_delay: float = 0.0
    discover_calls: int = 0
    sign_in_calls: list[tuple[str, ...]] = field(default_factory=list)
    re_register_calls: list[bool] = field(default_factory=list)
    refresh_calls: int = 0
    revoke_calls: int = 0
    delete_calls: int = 0
    fail_refresh: list[BaseException] = field(default_factory=list)
    fail_revoke: list[BaseException] = field(default_factory=list)
    live_refresh_tokens: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    counter: int = 0
    granted_scopes: tuple[str, ...] = ("read",)
    on_refresh: Callable[[], Any] | None = None

    def metadata(self) -> AuthServerMetadata:
        return AuthServerMetadata(
            issuer=self.issuer,
            authorization_endpoint=self.issuer + "/authorize",
            token_endpoint=self.issuer + "/token",
            registration_endpoint=self.registration_endpoint,
            revocation_endpoint=self.revocation_endpoint,
            code_challenge_methods_supported=("S256",),
        )

    async def discover(self, server: ServerConfig, *, challenge: Any = None) -> Discovery:
        self.discover_calls += 1
        return Discovery(
            resource=server.url,
            auth_server=self.metadata(),
            trail=("fake discovery",),
            discovered_at=self.clock.time(),
        )

    def select_scopes(self, server: ServerConfig, discovery: Discovery,
                      previous: tuple[str, ...] = (), challenged: tuple[str, ...] = ()) -> tuple[str, ...]:
        return tuple(sorted(set(server.scopes) | set(previous) | set(challenged)))

    def _issue(self, scopes: tuple[str, ...], resource: str | None) -> TokenSet:
        self.counter += 1
        rt = f"RT-{self.counter}-secret"
        self.live_refresh_tokens.add(rt)
        now = self.clock.time()
        return TokenSet(
            access_token=f"AT-{self.counter}-secret",
            expires_at=now + self.lifetime,
            refresh_token=rt,
            scope=scopes,
            issued_at=now,
            resource=resource,
        )

    async def sign_in(self, server: ServerConfig, discovery: Discovery, registration: ClientRegistration | None,
                      **options: Unpack[SignInOptions]) -> tuple[ClientRegistration, TokenSet]:
        scopes, client_secret = options["scopes"], options.get("client_secret")
        re_register, on_authorization_url = options.get("re_register", False), options.get("on_authorization_url")
        self.sign_in_calls.append(scopes)
        self.re_register_calls.append(re_register)
        if on_authorization_url is not None:
            on_authorization_url(self.issuer + "/authorize?client_id=x")
        if registration is None or (re_register and registration.method == "dcr"):
            again = f"-again{sum(self.re_register_calls)}" if re_register else ""
            registration = ClientRegistration(
                issuer=self.issuer,
                client_id=server.client_id or f"dcr-{server.id}{again}",
                method="preregistered" if server.client_id else "dcr",
                client_secret=client_secret,
                redirect_uris=("http://127.0.0.1:5555/callback",),
                registration_access_token=None if server.client_id else "RAT-secret",
                registration_client_uri=None if server.client_id else self.issuer + "/register/x",
                registered_at=self.clock.time(),
            )
        return registration, self._issue(scopes or self.granted_scopes, discovery.resource)

    async def refresh(self, discovery: Discovery, registration: ClientRegistration,
                      tokens: TokenSet, *, resource: str | None) -> TokenSet:
        self.refresh_calls += 1
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if self.on_refresh is not None:
            result = self.on_refresh()
            if asyncio.iscoroutine(result):
                await result
        if self.fail_refresh:
            raise self.fail_refresh.pop(0)
        if tokens.refresh_token not in self.live_refresh_tokens:
            # Reuse of a rotated refresh token: a real AS would also revoke the family.
            self.live_refresh_tokens.clear()
            raise errors.InvalidGrantError("invalid_grant", "refresh token reused", status=400)
        self.live_refresh_tokens.discard(tokens.refresh_token)
        return self._issue(tokens.scope, resource)

    async def revoke(
        self, discovery: Discovery, registration: ClientRegistration, tokens: TokenSet
    ) -> RevocationReport:
        self.revoke_calls += 1
        if discovery.auth_server.revocation_endpoint is None:
            return RevocationReport(supported=False)
        if self.fail_revoke:
            exc = self.fail_revoke.pop(0)
            return RevocationReport(supported=True, errors=(str(exc),))
        if tokens.refresh_token:
            self.revoked.add(tokens.refresh_token)
            self.live_refresh_tokens.discard(tokens.refresh_token)
        self.revoked.add(tokens.access_token)
        return RevocationReport(
            supported=True,
            refresh_token_revoked=tokens.refresh_token is not None,
            access_token_revoked=True,
        )

    async def delete_registration(self, registration: ClientRegistration) -> bool:
        self.delete_calls += 1
        return True

    def resource_for(self, server: ServerConfig, discovery: Discovery) -> str | None:
        if server.options.omit_resource:
            return None
        return server.options.resource_override or discovery.resource


class FakeMcp:
    """An MCP client double whose answers come from a script of callables."""

    def __init__(self, script: list[Callable[[str], Any]], token_provider: Any) -> None:
        self.script = script
        self.provider = token_provider
        self.tokens_seen: list[str] = []

    async def connect(self) -> Any:
        return None

    async def initialize(self) -> Any:
        return {"protocolVersion": "2025-06-18"}

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        token = await self.provider()
        self.tokens_seen.append(token)
        step = self.script.pop(0)
        return step(token)


if TYPE_CHECKING:
    # `make typecheck` proves each fake implements the port it stands in for (core/ports.py).
    def _ports(c: FakeClock, o: FakeOAuth, m: FakeMcp) -> tuple[Clock, OAuthClientLike, McpClientLike]:
        return c, o, m
