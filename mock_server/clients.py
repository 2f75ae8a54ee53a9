"""Client registry rules: RFC 7591 metadata validation, pre-registered clients, CIMD fetching.

All client metadata is self-asserted, so it is validated and never fetched or linked except
for Client ID Metadata Documents, which go through an SSRF filter (public addresses only, by
the address policy shared with the app in ``netpolicy``,
resolved once and pinned, no redirects, size and time caps).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from mock_server import scopes as scope_rules
from mock_server.http_util import parse_json_object
from mock_server.store import ClientRecord
from mock_server.validation import (
    LOOPBACK_IP_HOSTS,
    check_metadata_url,
    check_redirect_uri,
    is_loopback_redirect,
    url_host,
)
from netpolicy import classify_address

MAX_REDIRECT_URIS = 10
MAX_NAME_LENGTH = 200
CIMD_MAX_BYTES = 64 * 1024
CIMD_TIMEOUT = 5.0
CIMD_DEFAULT_TTL = 300.0
CIMD_MAX_TTL = 3600.0
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")
METADATA_URL_FIELDS = ("logo_uri", "client_uri", "policy_uri", "tos_uri")
_BIDI_OR_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class RegistrationError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def validate_client_metadata(
    body: dict[str, Any] | None, *, strict_application_type: bool, allowed_scopes: tuple[str, ...]
) -> dict[str, Any]:
    """Check RFC 7591 client metadata and return the normalized copy to store."""
    if not isinstance(body, dict):
        raise RegistrationError("invalid_client_metadata", "the body must be a JSON object")
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        raise RegistrationError("invalid_redirect_uri", "redirect_uris must be a non-empty array")
    if len(uris) > MAX_REDIRECT_URIS:
        raise RegistrationError("invalid_redirect_uri", f"at most {MAX_REDIRECT_URIS} redirect_uris")
    for uri in uris:
        problem = check_redirect_uri(uri)
        if problem:
            raise RegistrationError("invalid_redirect_uri", problem)
    app_type = body.get("application_type", "web")
    if app_type not in ("web", "native"):
        raise RegistrationError("invalid_client_metadata", "application_type must be web or native")
    if strict_application_type and app_type == "web" and any(is_loopback_redirect(u) for u in uris):
        raise RegistrationError(
            "invalid_redirect_uri",
            'loopback redirect URIs need "application_type": "native" (web is the default)',
        )
    name = body.get("client_name")
    if name is not None:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise RegistrationError("invalid_client_metadata", "client_name must be 1-200 characters")
        if _BIDI_OR_CONTROL.search(name) or "<" in name or ">" in name:
            raise RegistrationError(
                "invalid_client_metadata",
                "client_name must not contain markup, control or bidirectional-override characters",
            )
        name = unicodedata.normalize("NFC", name)
    grant_types = body.get("grant_types", ["authorization_code"])
    if (
        not isinstance(grant_types, list)
        or not grant_types
        or any(g not in GRANT_TYPES for g in grant_types)
        or "authorization_code" not in grant_types
    ):
        raise RegistrationError(
            "invalid_client_metadata",
            "grant_types must include authorization_code and may add refresh_token only",
        )
    response_types = body.get("response_types", ["code"])
    if response_types != ["code"]:
        raise RegistrationError("invalid_client_metadata", 'response_types must be ["code"]')
    method = body.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise RegistrationError(
            "invalid_client_metadata", f"token_endpoint_auth_method must be one of {AUTH_METHODS}"
        )
    scope = body.get("scope")
    if scope is not None:
        parsed = scope_rules.parse_scope(scope) if isinstance(scope, str) else None
        if not parsed or any(s not in allowed_scopes for s in parsed):
            raise RegistrationError("invalid_client_metadata", "scope lists an unknown scope")
    https_hosts = {url_host(u) for u in uris if u.startswith("https://")}
    out: dict[str, Any] = {
        "redirect_uris": list(uris),
        "token_endpoint_auth_method": method,
        "grant_types": list(dict.fromkeys(grant_types)),
        "response_types": ["code"],
        "application_type": app_type,
    }
    if name is not None:
        out["client_name"] = name
    if scope is not None:
        out["scope"] = scope
    for field_name in METADATA_URL_FIELDS:
        if field_name not in body:
            continue
        value = body[field_name]
        problem = check_metadata_url(value)
        if problem:
            raise RegistrationError("invalid_client_metadata", f"{field_name} {problem}")
        # Self-asserted URLs on a host other than the client's own https redirect host would
        # let a client borrow another site's reputation on the consent page.
        if https_hosts and url_host(value) not in https_hosts:
            raise RegistrationError(
                "invalid_client_metadata", f"{field_name} must be on the redirect URI host"
            )
        out[field_name] = value
    contacts = body.get("contacts")
    if contacts is not None:
        if not isinstance(contacts, list) or len(contacts) > 5 or not all(
            isinstance(c, str) and 0 < len(c) <= 200 for c in contacts
        ):
            raise RegistrationError("invalid_client_metadata", "contacts must be up to 5 strings")
        out["contacts"] = contacts
    for text_field in ("software_id", "software_version"):
        value = body.get(text_field)
        if value is not None:
            if not isinstance(value, str) or len(value) > 200 or _BIDI_OR_CONTROL.search(value):
                raise RegistrationError("invalid_client_metadata", f"{text_field} is invalid")
            out[text_field] = value
    return out


def load_clients_file(path: str, *, allowed_scopes: tuple[str, ...]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Pre-registered clients: a JSON list of objects with client_id, optional client_secret,
    and RFC 7591 metadata. Invalid entries stop the server with a clear message."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON array of client objects")
    out: list[tuple[str, str | None, dict[str, Any]]] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("client_id"), str):
            raise ValueError(f"{path}: entry {i} needs a string client_id")
        secret = entry.get("client_secret")
        if secret is not None and not isinstance(secret, str):
            raise ValueError(f"{path}: entry {i} client_secret must be a string")
        body = {k: v for k, v in entry.items() if k not in ("client_id", "client_secret")}
        body.setdefault("token_endpoint_auth_method", "client_secret_basic" if secret else "none")
        body.setdefault("application_type", "native")
        try:
            metadata = validate_client_metadata(
                body, strict_application_type=True, allowed_scopes=allowed_scopes
            )
        except RegistrationError as exc:
            raise ValueError(f"{path}: entry {i}: {exc.description}") from exc
        if (metadata["token_endpoint_auth_method"] == "none") != (secret is None):
            raise ValueError(f"{path}: entry {i}: a client_secret goes with a secret auth method")
        out.append((entry["client_id"], secret, metadata))
    return out


def looks_like_cimd(client_id: str) -> bool:
    return client_id.startswith(("https://", "http://"))


def check_cimd_url(client_id: str, *, allow_http: bool) -> str | None:
    try:
        parsed = urlsplit(client_id)
    except ValueError:
        return "client_id is not a valid URL"
    if parsed.fragment or "#" in client_id or parsed.username or parsed.password or "@" in parsed.netloc:
        return "client_id URL must not have a fragment or userinfo"
    if parsed.path in ("", "/"):
        return "client_id URL must have a path"
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if (
        allow_http
        and parsed.scheme == "http"
        and parsed.hostname is not None
        and (f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname) in LOOPBACK_IP_HOSTS
    ):
        return None
    return "client_id URL must use https"


def _address_allowed(addr: str, *, allow_loopback: bool) -> bool:
    """Public addresses only (loopback with the test flag), decided by the shared policy.

    ``netpolicy`` decides on the IPv4 address an IPv6 form embeds, so 6to4,
    NAT64, IPv4-mapped and Teredo wrappings of a private address are refused.
    """
    try:
        kind = classify_address(addr)
    except ValueError:
        return False
    if kind == "loopback":
        return allow_loopback
    return kind == "public"


async def _resolve_pinned(host: str, port: int, *, allow_loopback: bool) -> str:
    """Resolve once; every address must be allowed; return the one to connect to."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_address_allowed(a, allow_loopback=allow_loopback) for a in addresses):
        raise RegistrationError("invalid_client", "the client metadata document host is not allowed")
    return addresses[0]


async def fetch_cimd(
    client_id: str,
    *,
    allow_http: bool,
    strict_application_type: bool,
    allowed_scopes: tuple[str, ...],
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[dict[str, Any], float]:
    """Fetch and validate a Client ID Metadata Document; returns (metadata, cache seconds)."""
    problem = check_cimd_url(client_id, allow_http=allow_http)
    if problem:
        raise RegistrationError("invalid_client", problem)
    parsed = urlsplit(client_id)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    url = client_id
    headers = {"Accept": "application/json"}
    extensions: dict[str, Any] = {}
    if transport is None:
        ip = await _resolve_pinned(host, port, allow_loopback=allow_http)
        literal = f"[{ip}]" if ":" in ip else ip
        url = client_id.replace(parsed.netloc, f"{literal}:{port}", 1)
        headers["Host"] = parsed.netloc
        if parsed.scheme == "https":
            extensions["sni_hostname"] = host
    try:
        async with httpx.AsyncClient(
            transport=transport, follow_redirects=False, timeout=CIMD_TIMEOUT, trust_env=False
        ) as client:
            request = client.build_request("GET", url, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise RegistrationError("invalid_client", "the client metadata document could not be fetched")
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if media != "application/json":
                    raise RegistrationError("invalid_client", "the client metadata document is not JSON")
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body.extend(chunk)
                    if len(body) > CIMD_MAX_BYTES:
                        raise RegistrationError("invalid_client", "the client metadata document is too large")
                cache_control = response.headers.get("cache-control", "")
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        raise RegistrationError("invalid_client", "the client metadata document could not be fetched") from exc
    document = parse_json_object(bytes(body))
    if document is None:
        raise RegistrationError("invalid_client", "the client metadata document is not a JSON object")
    if document.get("client_id") != client_id:
        raise RegistrationError("invalid_client", "the document's client_id differs from its URL")
    if not isinstance(document.get("client_name"), str):
        raise RegistrationError("invalid_client", "the client metadata document has no client_name")
    if any(k in document for k in ("client_secret", "client_secret_expires_at")):
        raise RegistrationError("invalid_client", "a client metadata document cannot carry a secret")
    body_in = {k: v for k, v in document.items() if k != "client_id"}
    body_in.setdefault("token_endpoint_auth_method", "none")
    if body_in["token_endpoint_auth_method"] != "none":
        raise RegistrationError("invalid_client", "only token_endpoint_auth_method none is supported")
    body_in.setdefault("application_type", "native")
    try:
        metadata = validate_client_metadata(
            body_in, strict_application_type=strict_application_type, allowed_scopes=allowed_scopes
        )
    except RegistrationError as exc:
        raise RegistrationError("invalid_client", exc.description) from exc
    return metadata, _max_age(cache_control)


def _max_age(cache_control: str) -> float:
    for part in cache_control.lower().split(","):
        name, _, value = part.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age" and value.isascii() and value.isdigit():
            return min(float(value), CIMD_MAX_TTL)
    return CIMD_DEFAULT_TTL


def redirect_hosts(record: ClientRecord) -> list[str]:
    return sorted({url_host(u) for u in record.redirect_uris})
