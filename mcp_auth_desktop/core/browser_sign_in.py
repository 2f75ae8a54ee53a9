"""The browser leg of a sign-in: the callback listener, the authorization request, the callback.

Functions over plain values, called by ``core.flow.OAuthClient.sign_in``::

    bind_listener (the remembered or fixed port, else a free one)
    PendingAuthorization {state, verifier, issuer, resource}   (MCP C59: one record)
    authorize: start page ─▶ browser ─▶ AS ─▶ listener.wait() ─▶ parse_callback
               (state, then iss, then error)

Also the bounds on repeated authorizations (step-up scopes, the attempt budget).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ConfigurationError, McpAuthError, SignInRequiredError
from .models import ClientRegistration, Discovery, ServerOptions
from .oauth.authorization import build_authorization_url, parse_callback
from .oauth.scopes import union_scopes
from .pkce import make_state, make_verifier, s256_challenge
from .ports import BrowserOpener, CallbackListener, ListenerFactory

__all__ = [
    "AuthorizationBudget",
    "PendingAuthorization",
    "authorize",
    "bind_listener",
    "default_browser",
    "default_listener",
    "step_up_scopes",
]

log = logging.getLogger(__name__)


def default_listener(*, port: int, timeout: float) -> CallbackListener:
    # Imported on use: only a sign-in needs the listener. Typed, so mypy checks
    # LoopbackListener against the CallbackListener port.
    from .loopback import LoopbackListener

    return LoopbackListener(port=port, timeout=timeout)


def default_browser() -> BrowserOpener:
    from .browser import SystemBrowser

    return SystemBrowser()


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

    def authorization_url(self, discovery: Discovery, reg: ClientRegistration, options: ServerOptions) -> str:
        """The authorization request for this attempt (RFC 6749 §4.1.1, RFC 7636, RFC 8707)."""
        return build_authorization_url(
            discovery.auth_server, reg.client_id, self.redirect_uri,
            state=self.state, code_challenge=self.code_challenge, scopes=self.scopes, resource=self.resource,
            extra_params=options.extra_authorize_params,
            allow_insecure_loopback=options.allow_insecure_loopback,
        )


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


async def bind_listener(
    stack: contextlib.AsyncExitStack,
    factory: ListenerFactory,
    *,
    fixed: int | None,
    remembered: int | None,
    authorization_timeout: float,
) -> CallbackListener:
    """An entered listener on the user's port, else the remembered one, else a free one.

    A busy remembered port means a free one (and, in the caller, a new
    registration); a busy port the user fixed is an error naming it.
    """
    listener = factory(port=fixed or remembered or 0, timeout=authorization_timeout)
    try:
        await stack.enter_async_context(listener)
    except ConfigurationError:
        if fixed or not remembered:
            raise  # the user's own port: say so rather than pick another
        log.info("callback port %d is in use; using a free port (the client is registered again)", remembered)
        listener = factory(port=0, timeout=authorization_timeout)
        await stack.enter_async_context(listener)
    return listener


async def authorize(
    options: ServerOptions,
    discovery: Discovery,
    reg: ClientRegistration,
    pending: PendingAuthorization,
    listener: CallbackListener,
    on_authorization_url: Callable[[str], None] | None,
    browser: BrowserOpener | None,
) -> str:
    """Send the user to the authorization server; the authorization code it returns."""
    url = pending.authorization_url(discovery, reg, options)
    listener.expect_state(pending.state)
    # The browser (and the link shown to the user) get a single-use loopback page
    # that redirects to this URL: state and code_challenge never reach an argv.
    url = listener.start_page(url)
    if on_authorization_url is not None:
        on_authorization_url(url)
    else:
        await (browser or default_browser()).open(url)
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
