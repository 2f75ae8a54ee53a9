"""``OAuthClient``: the thin async orchestration over the protocol steps.

It owns no state worth persisting: the manager passes in what it stored
(discovery, registration, tokens) and stores what comes back. Collaborators
(HTTP client, clock, browser opener, loopback listener factory, resolver)
are constructor arguments so tests can replace each of them.

One sign-in (see docs/ARCHITECTURE.md)::

    bind_listener (ephemeral port) ─▶ redirect_uri from the bound address   browser_sign_in
    ensure_client (reuse / pre-registered / CIMD / DCR with that redirect_uri)  registration
    PendingAuthorization {state, verifier, issuer, resource}   (C59)         browser_sign_in
    authorize: browser ─▶ AS ─▶ listener.wait() ─▶ parse_callback            browser_sign_in
    exchange_code (code + verifier + resource) ─▶ TokenSet                   endpoint_calls
    invalid_client at the token endpoint ─▶ StaleClientError (the next sign-in registers
    again; one sign-in never shows two consent screens)

Refresh and revocation go through :mod:`.endpoint_calls` too; the pure
request and response steps are in :mod:`.oauth`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import Any, Unpack
from urllib.parse import urlsplit

import httpx

from . import registration as reg_mod
from . import stale_client
from .browser_sign_in import (
    AuthorizationBudget,
    PendingAuthorization,
    authorize,
    bind_listener,
    default_listener,
    step_up_scopes,
)
from .client_config_url import client_configuration_guard
from .device_signin import DeviceSignIn
from .device_signin import sign_in as sign_in_with_code
from .discovery import discover as run_discovery
from .endpoint_calls import exchange_code, refresh_grant, revoke_tokens
from .errors import McpAuthError, SignInRequiredError, StaleClientError
from .identity import resolve_identity
from .models import (
    ClientRegistration,
    Discovery,
    ServerConfig,
    ServerOptions,
    SystemClock,
    TokenSet,
)
from .oauth.scopes import select_scopes
from .ports import BrowserOpener as Opener
from .ports import CallbackListener, Clock, ListenerFactory, SignInOptions
from .state import RevocationReport
from .urls import Resolver, UrlGuard

__all__ = [
    "OAuthClient",
    # Defined in browser_sign_in and ports; importable from here as before.
    "CallbackListener",
    "ListenerFactory",
    "Opener",
    "PendingAuthorization",
    "AuthorizationBudget",
    "step_up_scopes",
]

log = logging.getLogger(__name__)


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
        self._listener_factory: ListenerFactory = listener_factory or default_listener
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
        self, server: ServerConfig, discovery: Discovery, registration: ClientRegistration | None,
        **options: Unpack[SignInOptions],
    ) -> tuple[ClientRegistration, TokenSet]:
        """One browser sign-in; ``re_register`` makes a new dynamic registration first.

        The callback listens on the port the stored registration was made for
        (servers that compare redirect URIs exactly know no other); when that
        port is taken, on a free one, and the client is registered again for it.
        """
        scopes, client_secret = options["scopes"], options.get("client_secret")
        on_authorization_url, re_register = options.get("on_authorization_url"), options.get("re_register", False)
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
            listener = await bind_listener(
                stack,
                self._listener_factory,
                fixed=server.options.callback_port,
                remembered=remembered,
                authorization_timeout=self._authorization_timeout,
            )
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
            code = await authorize(
                server.options, discovery, reg, pending, listener,
                on_authorization_url, self._browser,
            )
            try:
                tokens = await exchange_code(
                    self._http, discovery, reg, pending, code, guard, client_secret, self._clock
                )
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
        guard = self._stored_guard(discovery, meta.token_endpoint)
        return await refresh_grant(
            self._http, discovery, registration, tokens, tokens.refresh_token, resource, guard, self._clock
        )

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
        return await revoke_tokens(self._http, endpoint, registration, tokens, guard, self._clock)

    async def delete_registration(self, registration: ClientRegistration) -> bool:
        uri = registration.registration_client_uri
        if not uri:
            return False
        # The issuer's rules, never the URL's own scheme (issue 15 #2).
        guard = client_configuration_guard(registration, self._resolver)
        return await reg_mod.delete_registration(self._http, registration, guard=guard)
