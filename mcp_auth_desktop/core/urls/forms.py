"""URL forms: the stored server URL, the canonical resource URI, origins, comparison, redaction.

One rule each, used everywhere a URL is stored, compared or shown: the CLI,
the manager and the GUI's validation store :func:`normalize_server_url`;
two stored URLs name one server when :func:`same_server_url` says so; the
RFC 8707 resource is :func:`canonical_resource_uri`.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from mcp_auth_desktop.core.errors import ConfigurationError, InsecureUrlError, sanitize_server_text
from mcp_auth_desktop.core.urls.hosts import DEFAULT_PORTS, is_loopback_host

__all__ = [
    "canonical_resource_uri",
    "host_of",
    "normalize_server_url",
    "origin_of",
    "redact_url",
    "resource_matches",
    "same_server_url",
    "split_url",
]

_MAX_URL = 8192
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def normalize_server_url(url: str, *, allow_insecure_loopback: bool = False) -> str:
    """Validate an MCP server URL the user typed and return the form we store.

    The one rule for the CLI, the manager and the GUI's validation: https
    anywhere; plain http only to a loopback host (:func:`is_loopback_host`)
    and only when the server's options allow it. The URL is kept as the user
    gave it (``localhost`` is never rewritten to an address: the protected
    resource metadata's ``resource`` must match what the server advertises),
    except for case-insensitive parts and the default port, so that
    ``https://host:443/mcp`` and ``https://HOST/mcp`` are one server.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"{sanitize_server_text(text, 120)!r} is not a valid URL (check the port and brackets)."
        ) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise ConfigurationError(
            f"{sanitize_server_text(text, 120)!r} is not an http(s) URL of an MCP server."
        )
    if parts.username is not None or parts.password is not None:
        raise InsecureUrlError("A server URL must not contain a user name or password.")
    if scheme == "http" and not (allow_insecure_loopback and is_loopback_host(host)):
        raise InsecureUrlError(
            "Plain http is refused: use https, or for a development server on this computer "
            "(localhost, 127.0.0.1, [::1]) enable 'allow insecure loopback'."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = parts.path or "/"
    if path == "/":
        path = ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def same_server_url(a: str, b: str) -> bool:
    """Do two stored server URLs name one server? (A trailing slash makes no other server.)"""

    def key(url: str) -> str:
        try:
            return canonical_resource_uri(url)
        except InsecureUrlError:
            return url.rstrip("/")

    return key(a) == key(b)


def split_url(url: str, what: str) -> SplitResult:
    """Split an http(s) URL with a host and no userinfo; raises InsecureUrlError naming ``what``."""
    if not isinstance(url, str) or not url:
        raise InsecureUrlError(f"The {what} URL is missing or not text.")
    if len(url) > _MAX_URL:
        raise InsecureUrlError(f"The {what} URL is too long.")
    if _SPACE_OR_CONTROL.search(url):
        raise InsecureUrlError(f"The {what} URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InsecureUrlError(f"The {what} URL is not a valid URL.") from None
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise InsecureUrlError(f"The {what} URL must start with https:// (got {parts.scheme or 'no'} scheme).")
    if not parts.hostname:
        raise InsecureUrlError(f"The {what} URL has no host name.")
    if "@" in parts.netloc:
        raise InsecureUrlError(f"The {what} URL must not contain a user name or password.")
    del port
    return parts


def host_of(url: str) -> str:
    """Lower-case host of a URL (IPv6 without brackets); '' when there is none."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _netloc(parts: SplitResult) -> str:
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` in canonical (lower-case, default port dropped) form."""
    parts = split_url(url, "server")
    return f"{parts.scheme.lower()}://{_netloc(parts)}"


def canonical_resource_uri(url: str) -> str:
    """The RFC 8707 / MCP canonical URI of an MCP server URL.

    Lower-case scheme and host, default port dropped, fragment dropped, no
    trailing slash (the spec's examples write the root as
    ``https://mcp.example.com``); path case and query are kept as given.
    """
    parts = split_url(url, "server")
    path = parts.path
    if path.endswith("/"):
        path = path[:-1]
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{_netloc(parts)}{path}{query}"


def _segments_prefix(prefix: str, path: str) -> bool:
    if not prefix:
        return True
    return path == prefix or path.startswith(prefix + "/")


def resource_matches(prm_resource: str, server_url: str) -> bool:
    """Does a PRM ``resource`` cover the server the user configured?

    Same origin (after canonicalisation) and the resource path is a whole-
    segment prefix of the server path. RFC 9728 §3.3 asks for identity; the
    MCP SDKs accept a prefix, which is what servers mounted at ``/`` with
    the MCP endpoint at ``/mcp`` publish.
    """
    try:
        res = urlsplit(canonical_resource_uri(prm_resource))
        srv = urlsplit(canonical_resource_uri(server_url))
    except InsecureUrlError:
        return False
    if "#" in prm_resource:
        return False
    if (res.scheme, res.netloc) != (srv.scheme, srv.netloc):
        return False
    if res.query and res.query != srv.query:
        return False
    return _segments_prefix(res.path, srv.path)


def redact_url(url: str) -> str:
    """A URL fit for messages and logs: origin and path, no query, no fragment, no userinfo."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"[:300]
    except ValueError:
        return "<invalid URL>"
