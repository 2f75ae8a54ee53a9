"""Client authentication at the token and revocation endpoints.

``none``, ``client_secret_basic`` (RFC 6749 §2.3.1: form-encoding before
base64) and ``client_secret_post``; which one a client uses.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from urllib.parse import quote_plus

from ..errors import ConfigurationError
from ..models import ClientRegistration
from .request import FORM_CONTENT_TYPE, HttpRequest

__all__ = ["AUTH_METHODS", "authenticated_form_request", "choose_auth_method", "client_auth"]

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")


def choose_auth_method(supported: Sequence[str], *, has_secret: bool, preferred: str | None = None) -> str:
    """Token endpoint authentication method for a client.

    An explicit choice wins. A public client (no secret) uses ``none``; with
    a secret, ``client_secret_basic`` (the RFC 6749 default) unless the AS
    lists only ``client_secret_post``.
    """
    if preferred:
        if preferred not in AUTH_METHODS:
            raise ConfigurationError(
                f"Unsupported client authentication method {preferred!r}; use one of "
                + ", ".join(AUTH_METHODS)
                + "."
            )
        return preferred
    if not has_secret:
        return "none"
    if "client_secret_basic" in supported or "client_secret_post" not in supported:
        return "client_secret_basic"
    return "client_secret_post"


def client_auth(
    form: dict[str, str], client_id: str, client_secret: str | None, method: str
) -> dict[str, str]:
    """Add client authentication to a token/revocation form; return extra headers."""
    if method == "none":
        form["client_id"] = client_id
        return {}
    if not client_secret:
        raise ConfigurationError(
            f"The client authentication method {method} needs a client secret, but none is stored."
        )
    if method == "client_secret_basic":
        # RFC 6749 §2.3.1: form-encode id and secret *before* base64. The id goes in the
        # body too (§3.2.1 allows it): authorization servers built on the MCP SDKs look
        # the client up by the body's client_id before reading the header.
        form["client_id"] = client_id
        raw = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
        return {"Authorization": "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")}
    if method == "client_secret_post":
        form["client_id"] = client_id
        form["client_secret"] = client_secret
        return {}
    raise ConfigurationError(f"Unsupported client authentication method {method!r}.")


def authenticated_form_request(
    url: str, form: dict[str, str], registration: ClientRegistration, client_secret: str | None
) -> HttpRequest:
    """A form POST with the client's authentication (token and revocation requests)."""
    secret = client_secret if client_secret is not None else registration.client_secret
    headers = client_auth(form, registration.client_id, secret, registration.token_endpoint_auth_method)
    headers.update({"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"})
    return HttpRequest("POST", url, headers=headers, form=form)
