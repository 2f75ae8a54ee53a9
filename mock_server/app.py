"""create_app(config): the Starlette application with every route and middleware."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from mock_server import (
    authorize,
    device_endpoint,
    device_pages,
    metadata,
    oidc,
    registration,
    token_endpoint,
)
from mock_server import scopes as scope_rules
from mock_server.clients import load_clients_file
from mock_server.config import MockConfig
from mock_server.control import CONTROL_PATH, control_endpoint
from mock_server.mcp import McpRuntime, mcp_endpoint
from mock_server.middleware import CorsMiddleware, GuardMiddleware
from mock_server.state import MockState
from mock_server.validation import LOOPBACK_HOSTS

PRM_ROOT = "/.well-known/oauth-protected-resource"


def allowed_hosts(config: MockConfig) -> set[str]:
    authority = config.base_url.partition("://")[2]
    hosts = {authority.lower()}
    host, _, port = authority.rpartition(":")
    if port.isascii() and port.isdigit() and host.lower() in LOOPBACK_HOSTS:
        hosts.update(f"{h}:{port}" for h in LOOPBACK_HOSTS)
    hosts.update(h.lower() for h in config.allowed_hosts)
    return hosts


def as_metadata_paths(issuer_path: str) -> tuple[list[str], list[str]]:
    """(RFC 8414 paths, OpenID paths) for an issuer with or without a path (RFC 8414 §3.1)."""
    if not issuer_path:
        return ["/.well-known/oauth-authorization-server"], ["/.well-known/openid-configuration"]
    return (
        ["/.well-known/oauth-authorization-server" + issuer_path],
        [
            "/.well-known/openid-configuration" + issuer_path,
            issuer_path + "/.well-known/openid-configuration",
        ],
    )


def create_app(config: MockConfig) -> Starlette:
    """Build the mock server. The state (stores, knobs, clock, counters) is ``app.state.mock``."""
    mock = MockState(config)
    if config.clients_file:
        for client_id, secret, client_metadata in load_clients_file(
            config.clients_file, allowed_scopes=scope_rules.AS_SCOPES
        ):
            mock.store.put_client(
                client_id, secret=secret, metadata=client_metadata, source="static", rat=None, now=mock.now()
            )
    p = config.issuer_path
    oauth_paths, openid_paths = as_metadata_paths(p)
    routes = [
        Route(config.mcp_path, mcp_endpoint, methods=["GET", "POST", "DELETE"]),
        Route(PRM_ROOT + config.mcp_path, metadata.protected_resource_metadata, methods=["GET"]),
        Route(PRM_ROOT, metadata.protected_resource_metadata, methods=["GET"]),
        *[Route(path, metadata.oauth_metadata, methods=["GET"]) for path in oauth_paths],
        *[Route(path, metadata.openid_metadata, methods=["GET"]) for path in openid_paths],
        Route(p + "/jwks.json", metadata.jwks, methods=["GET"]),
        Route(p + "/authorize", authorize.authorize_get, methods=["GET"]),
        Route(p + "/authorize", authorize.authorize_post, methods=["POST"]),
        Route(p + "/token", token_endpoint.token_endpoint, methods=["POST"]),
        Route(p + device_endpoint.AUTHORIZATION_PATH, device_endpoint.device_authorization, methods=["POST"]),
        Route(p + device_endpoint.VERIFICATION_PATH, device_pages.device_get, methods=["GET"]),
        Route(p + device_endpoint.VERIFICATION_PATH, device_pages.device_post, methods=["POST"]),
        Route(p + "/device/decision", device_pages.device_decision, methods=["POST"]),
        Route(p + "/revoke", token_endpoint.revoke_endpoint, methods=["POST"]),
        Route(p + "/introspect", token_endpoint.introspect_endpoint, methods=["POST"]),
        Route(p + "/userinfo", oidc.userinfo_endpoint, methods=["GET", "POST"]),
        Route(p + "/register", registration.register, methods=["POST"]),
        Route(p + "/register/{client_id:str}", registration.manage_client, methods=["GET", "PUT", "DELETE"]),
        Route(CONTROL_PATH, control_endpoint, methods=["POST"]),
    ]
    cors_exact = {p + "/token", p + "/register", p + "/jwks.json"}

    def is_cors_path(path: str) -> bool:
        return (
            path in cors_exact
            or path.startswith("/.well-known/")
            or path.startswith(p + "/register/")
            or path in openid_paths
        )

    def body_limit(path: str) -> int:
        return config.mcp_max_body_bytes if path == config.mcp_path else config.max_body_bytes

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            mock.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(GuardMiddleware, allowed_hosts=allowed_hosts(config), body_limit=body_limit),
            Middleware(CorsMiddleware, is_cors_path=is_cors_path),
        ],
        lifespan=lifespan,
    )
    app.state.mock = mock
    app.state.mcp_runtime = McpRuntime()
    return app
