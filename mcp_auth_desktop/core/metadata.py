"""Pure functions for RFC 9728 (protected resource) and RFC 8414 / OIDC metadata.

* :func:`prm_urls` and :func:`as_metadata_urls` list the well-known URLs in
  the order the MCP spec (2026-07-28, "Authorization Server Discovery")
  tells a client to try them.
* :func:`parse_protected_resource_metadata` and :func:`parse_as_metadata`
  turn an untrusted JSON object into a validated model or raise
  :class:`~.errors.MetadataError` (or :class:`~.errors.InsecureUrlError`
  for a URL that breaks the https/SSRF rules). The AS ``issuer`` is compared
  byte for byte (RFC 8414 §3.3): no URL library gets to add a slash.
* :func:`legacy_as_metadata` synthesises the 2025-03-26 defaults
  (``/authorize``, ``/token``, ``/register`` at the MCP server's origin).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import InsecureUrlError, MetadataError, sanitize_server_text
from .models import AuthServerMetadata, ProtectedResourceMetadata
from .urls import UrlGuard, origin_of, redact_url, resource_matches

__all__ = [
    "PRM_WELL_KNOWN",
    "OAUTH_AS_WELL_KNOWN",
    "OIDC_WELL_KNOWN",
    "SCOPE_TOKEN_RE",
    "prm_urls",
    "as_metadata_urls",
    "parse_protected_resource_metadata",
    "parse_as_metadata",
    "legacy_as_metadata",
    "validate_scope_tokens",
]

PRM_WELL_KNOWN = "/.well-known/oauth-protected-resource"
OAUTH_AS_WELL_KNOWN = "/.well-known/oauth-authorization-server"
OIDC_WELL_KNOWN = "/.well-known/openid-configuration"

#: RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN_RE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_MAX_SCOPES = 200
_MAX_SCOPE_LEN = 4096


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def prm_urls(server_url: str, header_url: str | None = None) -> list[str]:
    """PRM URLs to try, best first: the challenge's ``resource_metadata``,
    then the path-inserted well-known URL (skipped at the root), then the root one."""
    origin = origin_of(server_url)
    path = urlsplit(server_url).path.rstrip("/")
    urls: list[str] = []
    if header_url:
        urls.append(header_url)
    if path:
        urls.append(origin + PRM_WELL_KNOWN + path)
    urls.append(origin + PRM_WELL_KNOWN)
    return _dedupe(urls)


def as_metadata_urls(issuer: str) -> list[str]:
    """AS metadata URLs for an issuer (RFC 8414 §3.1 path insertion, then OIDC forms).

    With a path (``https://as/tenant1``): OAuth path-insert, OIDC
    path-insert, OIDC path-append. Without: OAuth, then OIDC.
    """
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path:
        return [
            origin + OAUTH_AS_WELL_KNOWN + path,
            origin + OIDC_WELL_KNOWN + path,
            origin + path + OIDC_WELL_KNOWN,
        ]
    return [origin + OAUTH_AS_WELL_KNOWN, origin + OIDC_WELL_KNOWN]


def _check_url(url: str, purpose: str, guard: UrlGuard | None) -> str:
    if guard is not None:
        guard.check_syntax(url, purpose)
        return url
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc or "#" in url:
        raise InsecureUrlError(f"The {purpose} URL {redact_url(url)} must be a plain https:// URL.")
    return url


def _opt_str(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise MetadataError(f"The {where} field {key!r} must be a non-empty string.")
    return value


def _opt_str_list(doc: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise MetadataError(f"The {where} field {key!r} must be a list of strings.")
    if len(value) > _MAX_SCOPES:
        raise MetadataError(f"The {where} field {key!r} has too many entries.")
    return tuple(_dedupe(list(value)))


def _opt_bool(doc: Mapping[str, Any], key: str, where: str) -> bool:
    value = doc.get(key, False)
    if not isinstance(value, bool):
        raise MetadataError(f"The {where} field {key!r} must be true or false.")
    return value


def validate_scope_tokens(scopes: tuple[str, ...] | None, where: str) -> tuple[str, ...] | None:
    """Refuse scope values a server could use to inject into our requests or logs."""
    if scopes is None:
        return None
    total = 0
    for s in scopes:
        total += len(s) + 1
        if not SCOPE_TOKEN_RE.match(s):
            raise MetadataError(f"The {where} lists a scope with characters that are not allowed.")
    if total > _MAX_SCOPE_LEN:
        raise MetadataError(f"The {where} scope list is too long.")
    return scopes


def parse_protected_resource_metadata(
    doc: Mapping[str, Any], server_url: str, *, guard: UrlGuard | None = None
) -> ProtectedResourceMetadata:
    """Validate an RFC 9728 document for the MCP server at ``server_url``.

    ``resource`` must have the server's origin and a whole-segment prefix of
    its path; otherwise the flow stops before any authorization request
    (conformance ``auth/resource-mismatch``).
    """
    where = "protected resource metadata"
    resource = doc.get("resource")
    if not isinstance(resource, str) or not resource:
        raise MetadataError("The protected resource metadata has no 'resource' field.")
    if not resource_matches(resource, server_url):
        raise MetadataError(
            f"The protected resource metadata is for {sanitize_server_text(redact_url(resource), 120)}, "
            f"not for the configured server {redact_url(server_url)}; sign-in was stopped."
        )
    servers = doc.get("authorization_servers")
    if (
        not isinstance(servers, list)
        or not servers
        or not all(isinstance(s, str) and s for s in servers)
    ):
        raise MetadataError(
            "The protected resource metadata must list at least one authorization server."
        )
    for s in servers:
        _check_issuer_form(s, guard)
    scopes = validate_scope_tokens(_opt_str_list(doc, "scopes_supported", where), where)
    bearer = _opt_str_list(doc, "bearer_methods_supported", where)
    name = doc.get("resource_name")
    return ProtectedResourceMetadata(
        resource=resource,
        authorization_servers=tuple(_dedupe(list(servers))),
        scopes_supported=scopes,
        bearer_methods_supported=bearer,
        resource_name=sanitize_server_text(name, 120) if isinstance(name, str) else None,
    )


def _check_issuer_form(issuer: str, guard: UrlGuard | None) -> None:
    # RFC 8414 §2: https, no query, no fragment.
    _check_url(issuer, "authorization server", guard)
    parts = urlsplit(issuer)
    if parts.query or "?" in issuer:
        raise InsecureUrlError("An authorization server identifier must not contain a query.")


def parse_as_metadata(
    doc: Mapping[str, Any], expected_issuer: str, *, guard: UrlGuard | None = None
) -> AuthServerMetadata:
    """Validate RFC 8414 / OIDC discovery metadata fetched for ``expected_issuer``."""
    where = "authorization server metadata"
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or issuer != expected_issuer:
        # RFC 8414 §3.3: a document naming another issuer must not be used.
        raise MetadataError(
            "The authorization server metadata names a different issuer than the one it was "
            f"fetched for ({redact_url(expected_issuer)}); it was not used."
        )
    _check_issuer_form(issuer, guard)

    def endpoint(key: str, required: bool) -> str | None:
        value = _opt_str(doc, key, where)
        if value is None:
            if required:
                raise MetadataError(f"The authorization server metadata has no {key!r}.")
            return None
        return _check_url(value, key.replace("_", " "), guard)

    authorization_endpoint = endpoint("authorization_endpoint", True)
    token_endpoint = endpoint("token_endpoint", True)
    assert authorization_endpoint is not None and token_endpoint is not None

    methods = _opt_str_list(doc, "code_challenge_methods_supported", where)
    if not methods or "S256" not in methods:
        raise MetadataError(
            "The authorization server does not advertise PKCE with S256 "
            "(code_challenge_methods_supported); signing in would not be safe."
        )
    response_types = _opt_str_list(doc, "response_types_supported", where)
    if response_types is not None and "code" not in response_types:
        raise MetadataError("The authorization server does not support the authorization code flow.")
    grant_types = _opt_str_list(doc, "grant_types_supported", where)
    auth_methods = _opt_str_list(doc, "token_endpoint_auth_methods_supported", where)
    revocation_auth = _opt_str_list(doc, "revocation_endpoint_auth_methods_supported", where)
    scopes = validate_scope_tokens(_opt_str_list(doc, "scopes_supported", where), where)
    return AuthServerMetadata(
        issuer=issuer,
        authorization_endpoint=authorization_endpoint,
        token_endpoint=token_endpoint,
        registration_endpoint=endpoint("registration_endpoint", False),
        revocation_endpoint=endpoint("revocation_endpoint", False),
        introspection_endpoint=endpoint("introspection_endpoint", False),
        jwks_uri=endpoint("jwks_uri", False),
        userinfo_endpoint=endpoint("userinfo_endpoint", False),
        device_authorization_endpoint=endpoint("device_authorization_endpoint", False),
        scopes_supported=scopes,
        response_types_supported=response_types or ("code",),
        # RFC 8414 §2 default when omitted.
        grant_types_supported=grant_types or ("authorization_code", "implicit"),
        code_challenge_methods_supported=methods,
        token_endpoint_auth_methods_supported=auth_methods or ("client_secret_basic",),
        revocation_endpoint_auth_methods_supported=revocation_auth,
        authorization_response_iss_parameter_supported=_opt_bool(
            doc, "authorization_response_iss_parameter_supported", where
        ),
        client_id_metadata_document_supported=_opt_bool(
            doc, "client_id_metadata_document_supported", where
        ),
    )


def legacy_as_metadata(server_url: str) -> AuthServerMetadata:
    """2025-03-26 fallback: the MCP server's origin is the AS, with default endpoint paths.

    That revision made PKCE mandatory, so S256 is assumed.
    """
    origin = origin_of(server_url)
    return AuthServerMetadata(
        issuer=origin,
        authorization_endpoint=origin + "/authorize",
        token_endpoint=origin + "/token",
        registration_endpoint=origin + "/register",
        code_challenge_methods_supported=("S256",),
        grant_types_supported=("authorization_code", "refresh_token"),
        token_endpoint_auth_methods_supported=("none", "client_secret_basic", "client_secret_post"),
        legacy_defaults=True,
    )
