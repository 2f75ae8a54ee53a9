"""``OAuthClient``: the thin async orchestration over the pure protocol modules.

It owns no state worth persisting: the manager passes in what it stored
(discovery, registration, tokens) and stores what comes back. Collaborators
(HTTP client, clock, browser opener, loopback listener factory, resolver)
are constructor arguments so tests can replace each of them.

One sign-in (see docs/ARCHITECTURE.md)::

    LoopbackListener (ephemeral port) ─▶ redirect_uri from the bound address
    ensure_client (reuse / pre-registered / CIMD / DCR with that redirect_uri)
    PendingAuthorization {state, verifier, issuer, resource}   (C59: one record)
    browser ─▶ AS ─▶ listener.wait() ─▶ parse_callback (state, then iss, then error)
    token request (code + verifier + resource) ─▶ TokenSet
    invalid_client at the token endpoint ─▶ StaleClientError (the next sign-in registers
    again; one sign-in never shows two consent screens)
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import httpx

from . import registration as reg_mod
from . import stale_client
from .client_config_url import client_configuration_guard
from .device_signin import DeviceSignIn
from .device_signin import sign_in as sign_in_with_code
from .discovery import discover as run_discovery
from .errors import (
    ConfigurationError,
    McpAuthError,
    OAuthError,
    SignInRequiredError,
    StaleClientError,
)
from .http import fetch_json
from .identity import resolve_identity
from .models import (
    ClientRegistration,
    Discovery,
    ServerConfig,
    ServerOptions,
    SystemClock,
    TokenSet,
)
from .oauth.authorization import build_authorization_url, parse_callback
from .oauth.request import HttpRequest
from .oauth.revocation import build_revocation_request, check_revocation_response
from .oauth.scopes import select_scopes, union_scopes
from .oauth.tokens import (
    build_code_token_request,
    build_refresh_token_request,
    parse_token_response,
)
from .pkce import make_state, make_verifier, s256_challenge
from .ports import BrowserOpener as Opener
from .ports import Clock
from .state import RevocationReport
from .urls import Resolver, UrlGuard

__all__ = [
    "OAuthClient",
    "CallbackListener",
    "ListenerFactory",
    "Opener",
    "PendingAuthorization",
    "AuthorizationBudget",
    "step_up_scopes",
]

log = logging.getLogger(__name__)


class CallbackListener(Protocol):
    """What the flow needs from ``core.loopback.LoopbackListener``."""

    @property
    def redirect_uri(self) -> str: ...

    def expect_state(self, state: str) -> None: ...

    def start_page(self, authorization_url: str) -> str: ...

    async def wait(self) -> dict[str, str]: ...

    def report(self, ok: bool, message: str) -> None: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any: ...


#: Called as ``factory(port=..., timeout=...)``; returns an un-entered listener.
ListenerFactory = Callable[..., CallbackListener]


def _default_listener(*, port: int, timeout: float) -> CallbackListener:
    # Imported on use: the listener module is owned and landed separately.
    loopback = importlib.import_module(f"{__package__}.loopback")
    return cast(CallbackListener, loopback.LoopbackListener(port=port, timeout=timeout))


def _default_browser() -> Opener:
    browser = importlib.import_module(f"{__package__}.browser")
    return cast(Opener, browser.SystemBrowser())


@dataclass(frozen=True)
class PendingAuthorization:
    """Everything one authorization request must be checked against (MCP C59)."""

    state: str = field(repr=False)
    code_verifier: str = field(repr=False)
    issuer: str
    iss_supported: bool
    redirect_uri: str
    resource: str | None
    scopes: tuple[str, ...]

    @classmethod
    def new(
        cls,
        discovery: Discovery,
        redirect_uri: str,
        resource: str | None,
        scopes: tuple[str, ...],
    ) -> PendingAuthorization:
        meta = discovery.auth_server
        return cls(
            state=make_state(),
            code_verifier=make_verifier(),
            issuer=meta.issuer,
            iss_supported=meta.authorization_response_iss_parameter_supported,
            redirect_uri=redirect_uri,
            resource=resource,
            scopes=scopes,
        )

    @property
    def code_challenge(self) -> str:
        return s256_challenge(self.code_verifier)


def step_up_scopes(previous: tuple[str, ...], challenged: tuple[str, ...]) -> tuple[str, ...]:
    """Scopes for a step-up authorization: previous ones plus the challenged ones (MCP A:386)."""
    return union_scopes(previous, challenged)


@dataclass
class AuthorizationBudget:
    """Counts authorization requests for one operation (MCP A:401: bounded retries)."""

    limit: int = 3
    used: int = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise SignInRequiredError(
                f"The server still refuses access after {self.limit} sign-in attempts; giving up."
            )
        self.used += 1

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


class OAuthClient:
    """Discovery, client identity, sign-in, refresh and revocation for MCP servers."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        clock: Clock | None = None,
        browser: Opener | None = None,
        client_name: str = "MCP Auth Desktop",
        authorization_timeout: float = 300.0,
        listener_factory: ListenerFactory | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._http = http
        self._clock: Clock = clock or SystemClock()
        self._browser = browser
        self._client_name = client_name
        self._authorization_timeout = authorization_timeout
        self._listener_factory: ListenerFactory = listener_factory or _default_listener
        self._resolver = resolver
        # Options seen per resource, so refresh/revoke (which get no ServerConfig)
        # apply the user's URL rules when they are known.
        self._options: dict[str, ServerOptions] = {}

    # ------------------------------------------------------------ guards

    def _guard(self, server: ServerConfig) -> UrlGuard:
        return UrlGuard.for_server(server.url, server.options, resolver=self._resolver)

    def _stored_guard(self, discovery: Discovery, *urls: str | None) -> UrlGuard:
        opts = self._options.get(discovery.resource)
        if opts is None:
            # After a restart: these endpoints passed the user's rules when they
            # were discovered; keep the https and "forbidden address" checks and
            # allow what the stored endpoints needed back then.
            insecure = any(u and urlsplit(u).scheme == "http" for u in urls)
            opts = ServerOptions(allow_insecure_loopback=bool(insecure), allow_private_network=True)
        return UrlGuard.for_server(discovery.resource, opts, resolver=self._resolver)

    # ------------------------------------------------------------ discovery & client

    async def discover(self, server: ServerConfig, *, challenge: Any = None) -> Discovery:
        discovery = await run_discovery(
            self._http, server, challenge=challenge, clock=self._clock, resolver=self._resolver
        )
        self._options[discovery.resource] = server.options
        return discovery

    async def ensure_client(
        self,
        server: ServerConfig,
        discovery: Discovery,
        existing: ClientRegistration | None,
        *,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        scopes: tuple[str, ...] = (),
    ) -> ClientRegistration:
        self._options[discovery.resource] = server.options
        return await reg_mod.ensure_client(
            self._http,
            server,
            discovery,
            existing,
            guard=self._guard(server),
            clock=self._clock,
            client_name=self._client_name,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            scopes=scopes,
        )

    def select_scopes(
        self,
        server: ServerConfig,
        discovery: Discovery,
        previous: tuple[str, ...] = (),
        challenged: tuple[str, ...] = (),
    ) -> tuple[str, ...]:
        prm = discovery.protected_resource
        return select_scopes(
            challenged or discovery.challenge_scopes,
            prm.scopes_supported if prm else None,
            discovery.auth_server.scopes_supported,
            server.scopes,
            previous,
        )

    def resource_for(self, server: ServerConfig, discovery: Discovery) -> str | None:
        if server.options.omit_resource:
            return None
        return server.options.resource_override or discovery.resource

    # ------------------------------------------------------------ sign-in

    async def sign_in(
        self,
        server: ServerConfig,
        discovery: Discovery,
        registration: ClientRegistration | None,
        *,
        scopes: tuple[str, ...],
        client_secret: str | None = None,
        on_authorization_url: Callable[[str], None] | None = None,
        re_register: bool = False,
    ) -> tuple[ClientRegistration, TokenSet]:
        """One browser sign-in; ``re_register`` makes a new dynamic registration first.

        The callback listens on the port the stored registration was made for
        (servers that compare redirect URIs exactly know no other); when that
        port is taken, on a free one, and the client is registered again for it.
        """
        guard = self._guard(server)
        guard.check_server_url()
        self._options[discovery.resource] = server.options
        resource = self.resource_for(server, discovery)
        if isinstance(on_authorization_url, DeviceSignIn):
            # RFC 8628: approved on any device; no listener, no redirect (core/device_signin.py).
            return await sign_in_with_code(
                http=self._http, clock=self._clock, guard=guard, ensure_client=self.ensure_client,
                identify=self.identify, server=server, discovery=discovery, registration=registration,
                scopes=scopes, resource=resource, client_secret=client_secret,
                prompt=on_authorization_url, re_register=re_register,
            )
        remembered = reg_mod.registered_callback_port(registration, discovery.auth_server.issuer)
        if re_register and registration is not None and registration.method == "dcr":
            log.info("registering this app again at %s, as asked", discovery.auth_server.issuer)
            registration = None
        async with contextlib.AsyncExitStack() as stack:
            listener = await self._bind_listener(stack, server, remembered)
            redirect_uri = listener.redirect_uri
            reg = await self.ensure_client(
                server,
                discovery,
                registration,
                client_secret=client_secret,
                redirect_uri=redirect_uri,
                scopes=scopes,
            )
            pending = PendingAuthorization.new(discovery, redirect_uri, resource, scopes)
            code = await self._authorize(server, discovery, reg, pending, listener, on_authorization_url)
            try:
                tokens = await self._exchange_code(discovery, reg, pending, code, guard, client_secret)
            except McpAuthError as exc:
                if reg.method == "dcr" and stale_client.is_stale_client(exc):
                    # The code is bound to a client the AS refuses. Authorizing again with a
                    # new registration would show a second consent screen in one sign-in;
                    # instead the next sign-in registers again (the manager marks it).
                    exc = StaleClientError(stale_client.refused_after_approval(exc.user_message))
                listener.report(False, exc.user_message)
                raise exc from None
            listener.report(True, "Signed in. You can close this tab and return to MCP Auth Desktop.")
            return reg, await self.identify(discovery, reg, tokens, guard, client_secret)

    async def identify(
        self,
        discovery: Discovery,
        reg: ClientRegistration,
        tokens: TokenSet,
        guard: UrlGuard,
        client_secret: str | None = None,
    ) -> TokenSet:
        """``tokens`` with the signed-in account attached (core/identity.py) and no ID token."""
        found = await resolve_identity(
            self._http, discovery.auth_server, reg, tokens, guard=guard,
            now=self._clock.time(), client_secret=client_secret,
        )
        return replace(tokens, identity=found.to_dict() if found else None, id_token=None)

    async def _bind_listener(
        self, stack: contextlib.AsyncExitStack, server: ServerConfig, remembered: int | None
    ) -> CallbackListener:
        fixed = server.options.callback_port
        listener = self._listener_factory(
            port=fixed or remembered or 0, timeout=self._authorization_timeout
        )
        try:
            await stack.enter_async_context(listener)
        except ConfigurationError:
            if fixed or not remembered:
                raise  # the user's own port: say so rather than pick another
            log.info("callback port %d is in use; using a free port (the client is registered again)", remembered)
            listener = self._listener_factory(port=0, timeout=self._authorization_timeout)
            await stack.enter_async_context(listener)
        return listener

    async def _authorize(
        self,
        server: ServerConfig,
        discovery: Discovery,
        reg: ClientRegistration,
        pending: PendingAuthorization,
        listener: CallbackListener,
        on_authorization_url: Callable[[str], None] | None,
    ) -> str:
        url = build_authorization_url(
            discovery.auth_server,
            reg.client_id,
            pending.redirect_uri,
            state=pending.state,
            code_challenge=pending.code_challenge,
            scopes=pending.scopes,
            resource=pending.resource,
            extra_params=server.options.extra_authorize_params,
            allow_insecure_loopback=server.options.allow_insecure_loopback,
        )
        listener.expect_state(pending.state)
        # The browser (and the link shown to the user) get a single-use loopback page
        # that redirects to this URL: state and code_challenge never reach an argv.
        url = listener.start_page(url)
        if on_authorization_url is not None:
            on_authorization_url(url)
        else:
            browser = self._browser or _default_browser()
            await browser.open(url)
        params = await listener.wait()
        try:
            code = parse_callback(
                params,
                expected_state=pending.state,
                expected_issuer=pending.issuer,
                iss_supported=pending.iss_supported,
            )
        except McpAuthError as exc:
            # Only our own text: on an iss mismatch nothing from the response is shown.
            listener.report(False, exc.user_message)
            raise
        return code

    async def _send(
        self, request: HttpRequest, guard: UrlGuard, purpose: str
    ) -> tuple[httpx.Response, dict[str, Any] | None]:
        return await fetch_json(
            self._http, request.method, request.url, guard=guard, purpose=purpose, **request.httpx_kwargs()
        )

    async def _exchange_code(
        self,
        discovery: Discovery,
        reg: ClientRegistration,
        pending: PendingAuthorization,
        code: str,
        guard: UrlGuard,
        client_secret: str | None,
    ) -> TokenSet:
        request = build_code_token_request(
            discovery.auth_server.token_endpoint,
            reg,
            code=code,
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.code_verifier,
            resource=pending.resource,
            client_secret=client_secret if reg.method == "preregistered" else None,
        )
        response, body = await self._send(request, guard, "token endpoint")
        return parse_token_response(
            response.status_code,
            response.headers,
            body,
            now=self._clock.time(),
            requested_scopes=pending.scopes,
            resource=pending.resource or discovery.resource,
        )

    # ------------------------------------------------------------ refresh & revoke

    async def refresh(
        self,
        discovery: Discovery,
        registration: ClientRegistration,
        tokens: TokenSet,
        *,
        resource: str | None,
    ) -> TokenSet:
        meta = discovery.auth_server
        if registration.issuer != meta.issuer:
            raise SignInRequiredError(
                "The stored client belongs to a different authorization server; sign in again."
            )
        if not tokens.refresh_token:
            raise SignInRequiredError("There is no refresh token; sign in again.")
        request = build_refresh_token_request(
            meta.token_endpoint, registration, refresh_token=tokens.refresh_token, resource=resource
        )
        guard = self._stored_guard(discovery, meta.token_endpoint)
        response, body = await self._send(request, guard, "token endpoint")
        new = parse_token_response(
            response.status_code,
            response.headers,
            body,
            now=self._clock.time(),
            requested_scopes=tokens.scope,
            resource=tokens.resource or resource or discovery.resource,
        )
        return tokens.with_refresh(new)

    async def revoke(
        self, discovery: Discovery, registration: ClientRegistration, tokens: TokenSet
    ) -> RevocationReport:
        endpoint = discovery.auth_server.revocation_endpoint
        if not endpoint:
            return RevocationReport(supported=False)
        if registration.issuer != discovery.auth_server.issuer:
            return RevocationReport(
                supported=True,
                errors=("the stored client belongs to another authorization server",),
            )
        guard = self._stored_guard(discovery, endpoint)
        problems: list[str] = []
        client_unknown = False
        done = {"refresh_token": False, "access_token": False}
        # Refresh token first: revoking it usually takes the access tokens with it,
        # and it is the long-lived secret (RFC 7009 §2.1).
        for hint, token in (("refresh_token", tokens.refresh_token), ("access_token", tokens.access_token)):
            if not token:
                continue
            request = build_revocation_request(endpoint, registration, token, hint)
            try:
                response, body = await fetch_json(
                    self._http,
                    request.method,
                    request.url,
                    guard=guard,
                    purpose="revocation endpoint",
                    json_required=False,
                    **request.httpx_kwargs(),
                )
                check_revocation_response(response.status_code, response.headers, body, now=self._clock.time())
                done[hint] = True
            except McpAuthError as exc:
                what = "refresh token" if hint == "refresh_token" else "access token"
                if stale_client.is_stale_client(exc):
                    # Another registration could not revoke what was issued to this one
                    # (RFC 7009 §2.1 binds the token to its client); say it as it is.
                    client_unknown = True
                    problems.append(stale_client.REVOCATION_CLIENT_UNKNOWN)
                    break
                if isinstance(exc, OAuthError) and exc.error == "unsupported_token_type":
                    problems.append(f"the server cannot revoke the {what}")
                else:
                    problems.append(f"{what}: {exc.user_message}")
        return RevocationReport(
            supported=True,
            refresh_token_revoked=done["refresh_token"],
            access_token_revoked=done["access_token"],
            errors=tuple(problems),
            client_unknown=client_unknown,
        )

    async def delete_registration(self, registration: ClientRegistration) -> bool:
        uri = registration.registration_client_uri
        if not uri:
            return False
        # The issuer's rules, never the URL's own scheme (issue 15 #2).
        guard = client_configuration_guard(registration, self._resolver)
        return await reg_mod.delete_registration(self._http, registration, guard=guard)
