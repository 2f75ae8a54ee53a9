"""One sign-in through the device authorization grant (RFC 8628), ending like a code sign-in.

Chosen by passing a :class:`DeviceSignIn` as the sign-in's ``on_authorization_url``: the
choice of *how the user is shown the authorization* travels where that choice already
travels (CLI → manager → ``OAuthClient.sign_in``), so the manager's layers need no second
parameter. ``OAuthClient.sign_in`` hands such a sign-in to :func:`sign_in` here, which
returns the same ``(registration, tokens)`` pair as a browser sign-in; the manager then
stores, records and refreshes exactly as it does after one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from .device_grant import (
    DeviceAuthorization,
    Sleep,
    build_device_authorization_request,
    build_device_token_request,
    parse_device_authorization_response,
    poll_for_tokens,
)
from .errors import ConfigurationError, DeviceGrantUnavailableError, InvalidClientError
from .http import fetch_json
from .models import ClientRegistration, Discovery, ServerConfig, TokenSet
from .oauth.request import HttpRequest
from .ports import Clock
from .registration import registration_usable
from .urls import UrlGuard, host_of

__all__ = ["DEVICE_REDIRECT_URI", "DeviceSignIn", "offers_device_grant", "sign_in"]

log = logging.getLogger(__name__)

#: A registration needs a redirect URI even when the device grant never redirects; this
#: loopback one (any port, RFC 8252 §7.3) is what a later browser sign-in would use anyway.
DEVICE_REDIRECT_URI = "http://127.0.0.1/callback"

EnsureClient = Callable[..., Awaitable[ClientRegistration]]
Identify = Callable[..., Awaitable[TokenSet]]


class DeviceSignIn:
    """A sign-in's ``on_authorization_url`` that asks for the device grant instead.

    ``show`` is called once with the validated answer (user code, verification URIs,
    lifetime); the sign-in then polls until the user approved or denied it elsewhere.
    """

    def __init__(self, show: Callable[[DeviceAuthorization], None], *, sleep: Sleep = asyncio.sleep) -> None:
        self.show = show
        self.sleep = sleep

    def __call__(self, url: str) -> None:
        # Only an OAuth client without the device hook would call this with a browser URL.
        raise ConfigurationError("This sign-in asked for a code, but a browser sign-in was started.")


def offers_device_grant(discovery: Discovery | None) -> bool:
    return discovery is not None and bool(discovery.auth_server.device_authorization_endpoint)


async def sign_in(
    *,
    http: httpx.AsyncClient,
    clock: Clock,
    guard: UrlGuard,
    ensure_client: EnsureClient,
    identify: Identify,
    server: ServerConfig,
    discovery: Discovery,
    registration: ClientRegistration | None,
    scopes: tuple[str, ...],
    resource: str | None,
    client_secret: str | None,
    prompt: DeviceSignIn,
    re_register: bool = False,
) -> tuple[ClientRegistration, TokenSet]:
    meta = discovery.auth_server
    host = host_of(meta.issuer) or meta.issuer
    endpoint = meta.device_authorization_endpoint
    if not endpoint:
        raise DeviceGrantUnavailableError(
            f"The authorization server of {server.name} ({host}) does not offer sign-in with a "
            "code: its metadata has no device_authorization_endpoint (RFC 8628)."
        )
    if re_register and registration is not None and registration.method == "dcr":
        registration = None

    async def client(existing: ClientRegistration | None) -> ClientRegistration:
        fits = existing is not None and registration_usable(
            existing, server, discovery, None, clock.time(), scopes
        )
        return await ensure_client(
            server, discovery, existing if fits else None, client_secret=client_secret,
            redirect_uri=None if fits else DEVICE_REDIRECT_URI, scopes=scopes,
        )

    async def send(request: HttpRequest, purpose: str) -> tuple[int, Mapping[str, str], Mapping[str, Any] | None]:
        response, body = await fetch_json(
            http, request.method, request.url, guard=guard, purpose=purpose, **request.httpx_kwargs()
        )
        return response.status_code, response.headers, body

    def secret_for(reg: ClientRegistration) -> str | None:
        return client_secret if reg.method == "preregistered" else None

    reg = await client(registration)
    try:
        authorization = await _authorize(send, clock, endpoint, reg, scopes, resource, secret_for(reg))
    except InvalidClientError:
        if reg.method != "dcr" or registration is None:
            raise
        # The server forgot this app's registration. Nothing was shown to the user yet, so
        # registering again and asking once more costs no second approval.
        log.info("the device authorization endpoint no longer knows this app; registering again")
        reg = await client(None)
        authorization = await _authorize(send, clock, endpoint, reg, scopes, resource, secret_for(reg))
    prompt.show(authorization)
    token_request = build_device_token_request(
        meta.token_endpoint, reg, device_code=authorization.device_code, resource=resource,
        client_secret=secret_for(reg),
    )
    tokens = await poll_for_tokens(
        lambda request: send(request, "token endpoint"),
        clock,
        authorization,
        token_request,
        host=host,
        requested_scopes=scopes,
        resource=resource or discovery.resource,
        sleep=prompt.sleep,
    )
    return reg, await identify(discovery, reg, tokens, guard, client_secret)


async def _authorize(
    send: Callable[[HttpRequest, str], Awaitable[tuple[int, Mapping[str, str], Mapping[str, Any] | None]]],
    clock: Clock,
    endpoint: str,
    reg: ClientRegistration,
    scopes: tuple[str, ...],
    resource: str | None,
    client_secret: str | None,
) -> DeviceAuthorization:
    request = build_device_authorization_request(
        endpoint, reg, scopes=scopes, resource=resource, client_secret=client_secret
    )
    status, headers, body = await send(request, "device authorization endpoint")
    return parse_device_authorization_response(status, headers, body, received_at=clock.monotonic())
