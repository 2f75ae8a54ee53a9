"""Client identity at one authorization server: pre-registered, CIMD or DCR.

The spec's order (MCP 2026-07-28 "Client Registration"):

1. a pre-registered client the user entered for this server;
2. a Client ID Metadata Document URL, when the AS advertises
   ``client_id_metadata_document_supported``;
3. Dynamic Client Registration (RFC 7591) when the AS has a
   ``registration_endpoint`` (native app, loopback redirect URI, code +
   refresh grants);
4. otherwise the user is asked for a client ID (ConfigurationError).

Every :class:`ClientRegistration` names the issuer it belongs to and is
never used at another one (SEP-2352). A dynamic registration is made with
the scopes the sign-in will request (servers that validate registered scopes
refuse others with ``invalid_scope``) and for one exact redirect URI: many
authorization servers compare ``redirect_uri`` exactly although RFC 8252 §7.3
asks them to ignore the loopback port, so the flow listens on the port the
registration was made with (``registered_callback_port``) and a stored
registration is reused only for that exact URI and a covered scope set, and
re-made otherwise. :func:`delete_registration` implements RFC 7592 deletion.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlsplit

import httpx

from .client_config_url import check_client_configuration_url
from .errors import ConfigurationError
from .http import fetch_json
from .models import ClientRegistration, Discovery, ServerConfig
from .oauth.client_auth import choose_auth_method
from .oauth.dcr import build_registration_request, parse_registration_response
from .ports import Clock
from .urls import UrlGuard, is_loopback_ip_literal, redact_url

__all__ = [
    "redirect_uri_covered",
    "registered_callback_port",
    "scopes_covered",
    "registration_usable",
    "ensure_client",
    "register_dynamic",
    "preregistered_client",
    "cimd_client",
    "delete_registration",
]

log = logging.getLogger(__name__)


def redirect_uri_covered(registered: tuple[str, ...], redirect_uri: str | None) -> bool:
    """Does a registration's redirect URI list cover ``redirect_uri``?

    Exact match, or same scheme, loopback IP host and path with another
    port (RFC 8252 §7.3: the AS must allow any port on loopback IPs).
    """
    if redirect_uri is None:
        return True
    if redirect_uri in registered:
        return True
    try:
        want = urlsplit(redirect_uri)
    except ValueError:
        return False
    if not is_loopback_ip_literal(want.hostname or ""):
        return False
    for uri in registered:
        try:
            have = urlsplit(uri)
        except ValueError:
            continue
        if (have.scheme, have.hostname, have.path, have.query) == (
            want.scheme,
            want.hostname,
            want.path,
            want.query,
        ):
            return True
    return False


def registered_callback_port(registration: ClientRegistration | None, issuer: str) -> int | None:
    """The loopback port a dynamic registration at ``issuer`` was made for, if any."""
    if registration is None or registration.method != "dcr" or registration.issuer != issuer:
        return None
    for uri in registration.redirect_uris:
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            continue
        if parts.scheme == "http" and is_loopback_ip_literal(parts.hostname or "") and port:
            return port
    return None


def scopes_covered(registered: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Were the ``wanted`` scopes registered? An unknown (empty) registered set covers all."""
    return not registered or set(wanted) <= set(registered)


def registration_usable(
    existing: ClientRegistration,
    server: ServerConfig,
    discovery: Discovery,
    redirect_uri: str | None,
    now: float,
    scopes: tuple[str, ...] = (),
) -> bool:
    """May this stored registration be used for the next sign-in at this AS?"""
    meta = discovery.auth_server
    if existing.issuer != meta.issuer:
        return False
    if existing.method == "preregistered":
        return existing.client_id == server.client_id
    if existing.method == "cimd":
        return (
            meta.client_id_metadata_document_supported
            and existing.client_id == server.options.client_metadata_url
        )
    if server.client_id:
        return False  # the user entered a client since: it takes precedence
    if existing.client_secret_expires_at is not None and existing.client_secret_expires_at <= now:
        return False
    if not scopes_covered(existing.scope, scopes):
        log.info("the sign-in needs scopes the client was not registered with; registering again")
        return False
    # Exact: a server that compares redirect URIs exactly refuses another port.
    return redirect_uri is None or redirect_uri in existing.redirect_uris


def preregistered_client(
    server: ServerConfig, discovery: Discovery, client_secret: str | None, redirect_uri: str | None
) -> ClientRegistration:
    assert server.client_id is not None
    method = choose_auth_method(
        discovery.auth_server.token_endpoint_auth_methods_supported,
        has_secret=bool(client_secret),
        preferred=server.client_auth_method,
    )
    if method != "none" and not client_secret:
        raise ConfigurationError(
            f"The client ID for {server.name} uses {method}, but no client secret is stored. "
            "Enter the client secret in the server settings."
        )
    return ClientRegistration(
        issuer=discovery.auth_server.issuer,
        client_id=server.client_id,
        method="preregistered",
        token_endpoint_auth_method=method,
        client_secret=client_secret if method != "none" else None,
        redirect_uris=(redirect_uri,) if redirect_uri else (),
    )


def cimd_client(server: ServerConfig, discovery: Discovery, redirect_uri: str | None) -> ClientRegistration:
    url = server.options.client_metadata_url
    assert url is not None
    parts = urlsplit(url)
    # MCP "Client ID Metadata Documents": https, with a path component.
    if parts.scheme != "https" or not parts.hostname or parts.path in ("", "/") or parts.fragment:
        raise ConfigurationError(
            "The client metadata document URL must be an https:// URL with a path "
            "(for example https://app.example.com/oauth/client.json)."
        )
    return ClientRegistration(
        issuer=discovery.auth_server.issuer,
        client_id=url,
        method="cimd",
        token_endpoint_auth_method="none",
        redirect_uris=(redirect_uri,) if redirect_uri else (),
    )


async def register_dynamic(
    http: httpx.AsyncClient,
    discovery: Discovery,
    *,
    guard: UrlGuard,
    redirect_uri: str,
    client_name: str,
    clock: Clock,
    scopes: tuple[str, ...] = (),
) -> ClientRegistration:
    """RFC 7591 registration of this app as a native client, for ``scopes``."""
    meta = discovery.auth_server
    if not meta.registration_endpoint:
        raise ConfigurationError(
            "The authorization server does not support dynamic client registration; "
            "enter a client ID for this server."
        )
    supported = meta.token_endpoint_auth_methods_supported
    # A native app has no real secret, so "none" first. Between the two secret methods,
    # client_secret_post where offered: it is what the MCP SDK clients register, and the
    # MCP Python SDK's revocation endpoint (FastMCP; see docs/compatibility.md) refuses a
    # request authenticated with client_secret_basic alone. Whichever is chosen, the
    # method the registration response names is the one used (parse_registration_response).
    if "none" in supported:
        method = "none"
    elif "client_secret_post" in supported:
        method = "client_secret_post"
    elif "client_secret_basic" in supported:
        method = "client_secret_basic"
    else:
        method = "none"
    request = build_registration_request(
        meta.registration_endpoint,
        client_name=client_name,
        redirect_uris=[redirect_uri],
        token_endpoint_auth_method=method,
        scopes=scopes,
    )
    response, body = await fetch_json(
        http,
        request.method,
        request.url,
        guard=guard,
        purpose="registration endpoint",
        **request.httpx_kwargs(),
    )
    registration = parse_registration_response(
        response.status_code,
        response.headers,
        body,
        issuer=meta.issuer,
        now=clock.time(),
        requested_redirect_uris=[redirect_uri],
        requested_auth_method=method,
        requested_scopes=scopes,
    )
    log.info("registered a client at %s", redact_url(meta.issuer))
    return replace(registration, registration_endpoint=meta.registration_endpoint)


async def ensure_client(
    http: httpx.AsyncClient,
    server: ServerConfig,
    discovery: Discovery,
    existing: ClientRegistration | None,
    *,
    guard: UrlGuard,
    clock: Clock,
    client_name: str,
    client_secret: str | None = None,
    redirect_uri: str | None = None,
    scopes: tuple[str, ...] = (),
) -> ClientRegistration:
    """A registration usable at ``discovery``'s AS, reusing ``existing`` when it fits."""
    meta = discovery.auth_server
    if (
        existing is not None
        and existing.method == "preregistered"
        and existing.issuer != meta.issuer
        and existing.client_id == server.client_id
    ):
        # MCP R:193-197: show an error rather than use credentials at a foreign AS.
        raise ConfigurationError(
            f"The client ID for {server.name} was set up for {redact_url(existing.issuer)}, but "
            f"the server now uses {redact_url(meta.issuer)}. Enter a client ID for the new "
            "authorization server."
        )
    if existing is not None and registration_usable(
        existing, server, discovery, redirect_uri, clock.time(), scopes
    ):
        if existing.method == "preregistered" and client_secret is not None:
            return preregistered_client(server, discovery, client_secret, redirect_uri)
        return existing
    if server.client_id:
        return preregistered_client(server, discovery, client_secret, redirect_uri)
    if server.options.client_metadata_url and meta.client_id_metadata_document_supported:
        return cimd_client(server, discovery, redirect_uri)
    if meta.registration_endpoint:
        if redirect_uri is None:
            raise ConfigurationError("A redirect URI is needed to register this app.")
        return await register_dynamic(
            http,
            discovery,
            guard=guard,
            redirect_uri=redirect_uri,
            client_name=client_name,
            clock=clock,
            scopes=scopes,
        )
    raise ConfigurationError(
        f"The authorization server of {server.name} supports neither client metadata documents "
        "nor dynamic registration. Enter a client ID (and secret, if any) for this server."
    )


async def delete_registration(
    http: httpx.AsyncClient, registration: ClientRegistration, *, guard: UrlGuard
) -> bool:
    """RFC 7592 §2.3: DELETE the client configuration; True when the AS confirmed it."""
    if (
        registration.method != "dcr"
        or not registration.registration_access_token
        or not registration.registration_client_uri
    ):
        return False
    response, _ = await fetch_json(
        http,
        "DELETE",
        check_client_configuration_url(registration),
        guard=guard,
        purpose="client configuration endpoint",
        json_required=False,
        headers={"Authorization": f"Bearer {registration.registration_access_token}"},
    )
    # 404/410: the client is already gone, which is what we wanted.
    return response.status_code in (200, 204, 404, 410)
