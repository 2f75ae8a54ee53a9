"""Pure checks the AS applies to client input: redirect URIs, PKCE, resource, metadata URLs.

Redirect URIs are compared as raw strings (RFC 8252 §7.3, RFC 9700 §4.1.3): no URL library
normalization, so "HTTP://", "127.000.000.001" or a trailing "/" never match by accident.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from urllib.parse import urlsplit

MAX_URI_LENGTH = 2000
LOOPBACK_IP_HOSTS = ("127.0.0.1", "[::1]")
LOOPBACK_HOSTS = (*LOOPBACK_IP_HOSTS, "localhost")
_PKCE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _split_authority(uri: str) -> tuple[str, str, str] | None:
    """Raw (scheme, authority, rest) of an http(s) URI, or None when it has another shape."""
    for scheme in ("https://", "http://"):
        if uri.startswith(scheme):
            body = uri[len(scheme) :]
            cut = len(body)
            for delim in "/?#":
                i = body.find(delim)
                if i != -1:
                    cut = min(cut, i)
            return scheme, body[:cut], body[cut:]
    return None


def _host_and_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            return authority, None
        host, rest = authority[: end + 1], authority[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else (None if not rest else "!" + rest)
    host, sep, port = authority.partition(":")
    return host, port if sep else None


def _valid_port(port: str | None) -> bool:
    return port is None or (port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535)


def is_loopback_redirect(uri: str) -> bool:
    parts = _split_authority(uri)
    if parts is None or parts[0] != "http://":
        return False
    host, _ = _host_and_port(parts[1])
    return host in LOOPBACK_HOSTS


def check_redirect_uri(uri: object) -> str | None:
    """Return why `uri` cannot be registered, or None when it is acceptable.

    Allowed: https URIs, and http URIs on a loopback host (127.0.0.1, [::1], localhost).
    """
    if not isinstance(uri, str) or not uri:
        return "redirect URIs must be non-empty strings"
    if len(uri) > MAX_URI_LENGTH:
        return "redirect URI is too long"
    if _CONTROL.search(uri) or "\\" in uri:
        return "redirect URI contains whitespace, control characters or backslashes"
    if "#" in uri:
        return "redirect URI must not contain a fragment"
    if "*" in uri:
        return "redirect URI must not contain wildcards"
    parts = _split_authority(uri)
    if parts is None:
        return "redirect URI must use https (or http on a loopback address)"
    scheme, authority, rest = parts
    if "@" in authority:
        return "redirect URI must not contain userinfo"
    host, port = _host_and_port(authority)
    if not host or not _valid_port(port):
        return "redirect URI has an invalid host or port"
    if scheme == "http://" and host not in LOOPBACK_HOSTS:
        return "plain http redirect URIs are allowed only on 127.0.0.1, [::1] or localhost"
    if rest and not rest.startswith(("/", "?")):
        return "redirect URI has an invalid path"
    try:
        parsed = urlsplit(uri)
        _ = parsed.port
    except ValueError:
        return "redirect URI cannot be parsed"
    if parsed.hostname is None:
        return "redirect URI has no host"
    return None


def redirect_matches(registered: str, requested: str) -> bool:
    """Exact string match, except that a loopback http URI may use any port (RFC 8252 §7.3)."""
    if hmac.compare_digest(registered.encode(), requested.encode()):
        return True
    reg = _split_authority(registered)
    req = _split_authority(requested)
    if reg is None or req is None or reg[0] != "http://" or req[0] != "http://":
        return False
    reg_host, _ = _host_and_port(reg[1])
    req_host, req_port = _host_and_port(req[1])
    if reg_host not in LOOPBACK_HOSTS or req_host != reg_host:
        return False
    if "@" in req[1] or not _valid_port(req_port):
        return False
    return reg[2] == req[2]


def pkce_value_ok(value: str) -> bool:
    """RFC 7636 ABNF for code_challenge and code_verifier: 43-128 unreserved characters."""
    return bool(_PKCE.match(value))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(s256(verifier).encode(), challenge.encode())


def check_resource(value: str) -> str | None:
    """Why a `resource` value is malformed (RFC 8707 §2), or None."""
    if len(value) > MAX_URI_LENGTH:
        return "resource is too long"
    if "#" in value:
        return "resource must not contain a fragment"
    try:
        parsed = urlsplit(value)
    except ValueError:
        return "resource is not a URI"
    if not parsed.scheme or not parsed.netloc:
        return "resource must be an absolute URI"
    return None


def check_metadata_url(value: object) -> str | None:
    """logo_uri, client_uri, policy_uri, tos_uri: https (or loopback http) URLs only."""
    if not isinstance(value, str) or len(value) > MAX_URI_LENGTH or _CONTROL.search(value):
        return "must be a URL string"
    parts = _split_authority(value)
    if parts is None or "@" in parts[1]:
        return "must be an https URL"
    host, port = _host_and_port(parts[1])
    if not host or not _valid_port(port):
        return "has an invalid host"
    if parts[0] == "http://" and host not in LOOPBACK_HOSTS:
        return "must be an https URL"
    return None


def url_host(uri: str) -> str:
    parts = _split_authority(uri)
    if parts is None:
        return ""
    return _host_and_port(parts[1])[0].lower()


def is_loopback_ip(text: str) -> bool:
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback
