"""The RFC 7592 client configuration URL is used only where the authorization server lives.

A registration response names ``registration_client_uri`` and the app later sends
the registration access token there as a bearer (to delete the client at remove or
after a migration). That URL is server text (or settings-file text, where the public
part of a registration is kept), so before any use it must be on the origin of the
issuer or of the registration endpoint, and pass the same URL guard as every other
endpoint: https (plain http only when the issuer itself is plain http on loopback),
and no address class the issuer's own network does not have (issue 15 #2).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import InsecureUrlError
from .models import ClientRegistration, ServerOptions
from .urls import Resolver, UrlGuard, is_loopback_host, origin_of, redact_url

__all__ = ["check_client_configuration_url", "client_configuration_guard"]


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return origin_of(url)
    except InsecureUrlError:
        return None


def check_client_configuration_url(registration: ClientRegistration) -> str:
    """The registration's client configuration URL, or InsecureUrlError saying why not."""
    uri = registration.registration_client_uri or ""
    allowed = {o for o in (_origin(registration.issuer), _origin(registration.registration_endpoint)) if o}
    origin = _origin(uri)
    if origin is None or origin not in allowed:
        where = " or ".join(sorted(allowed)) or "the authorization server"
        raise InsecureUrlError(
            f"The client registration at {redact_url(registration.issuer)} was not deleted there: "
            f"its client configuration URL ({redact_url(uri)}) is not on the authorization "
            f"server's origin ({where}), so the registration token was not sent to it. "
            "Delete the client at the authorization server yourself if it matters."
        )
    return uri


def client_configuration_guard(
    registration: ClientRegistration, resolver: Resolver | None = None
) -> UrlGuard:
    """The URL guard for the issuer: what passed for its endpoints passes here, nothing more."""
    parts = urlsplit(registration.issuer)
    insecure = parts.scheme.lower() == "http" and is_loopback_host(parts.hostname or "")
    return UrlGuard.for_server(
        registration.issuer, ServerOptions(allow_insecure_loopback=insecure), resolver=resolver
    )
