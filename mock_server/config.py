"""MockConfig (what the server is started with) and Knobs (what tests may change at run time)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import httpx

from mock_server.clock import Clock

FailWith = Literal["503", "429", "invalid_grant"]
FAIL_WITH_VALUES: tuple[str, ...] = ("503", "429", "invalid_grant")
PROTOCOL_CHOICES: tuple[str, ...] = ("auto", "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26")


@dataclass
class MockConfig:
    """Everything `create_app` needs. Defaults suit an in-process test on http://127.0.0.1:8000."""

    base_url: str = "http://127.0.0.1:8000"
    """Scheme, host and port the server is reached at, without a trailing slash."""
    mcp_path: str = "/mcp"
    issuer_path: str = ""
    """Path part of the issuer, e.g. "/tenant1"; the AS endpoints live under it."""
    db_path: str = ":memory:"
    auto_approve: bool = False
    access_token_ttl: int = 300
    refresh_token_ttl: int = 86400
    code_ttl: int = 60
    leeway: int = 5
    """Seconds of clock tolerance on exp/nbf/iat at the resource server (0..60)."""
    iss_in_response: bool = True
    rotate_refresh_tokens: bool = True
    allow_http_cimd: bool = False
    """Accept Client ID Metadata Documents on plain-http loopback URLs (tests only)."""
    clients_file: str | None = None
    control_token: str | None = None
    """Secret for the loopback-only POST /__mock__/control endpoint; None disables the endpoint."""
    fail_next: int = 0
    fail_with: FailWith = "503"
    latency: float = 0.0
    rate_limit_per_ip: int = 600
    rate_limit_per_client: int = 240
    rate_limit_window: float = 60.0
    max_body_bytes: int = 64 * 1024
    mcp_max_body_bytes: int = 1024 * 1024
    allowed_hosts: tuple[str, ...] = ()
    """Extra Host header values accepted besides the base URL's (and loopback aliases)."""
    subject: str = "demo-user"
    email: str = "demo-user@example.com"
    """The user's e-mail: in ID tokens and userinfo answers for the ``email`` scope."""
    require_resource: bool = True
    """Reject authorization/token requests without `resource` (RFC 8707); False defaults it."""
    strict_application_type: bool = True
    """Registration: http loopback redirect URIs need application_type "native"."""
    sse_responses: bool = False
    """Answer /mcp POSTs with SSE when the client accepts both JSON and SSE."""
    signing_alg: Literal["ES256", "RS256"] = "ES256"
    protocol: str = "auto"
    """MCP revision(s) spoken at /mcp: "auto" (2026-07-28 and every handshake-era revision) or one pinned."""
    require_auth: bool = True
    """False (--no-auth, a test knob for the conformance suite's server scenarios) skips the bearer check."""
    device_grant: bool = True
    """Offer the device authorization grant (RFC 8628); False (--no-device-grant) hides it."""
    device_code_ttl: int = 600
    """Seconds a device code (and its user code) stays valid: the answer's ``expires_in``."""
    device_interval: int = 5
    """Seconds the client must wait between polls: the answer's ``interval``."""
    device_wrong_code_limit: int = 5
    """Wrong user codes one address may type in 5 minutes before the page refuses it."""
    templates_dir: str | None = None
    clock: Clock | None = None
    cimd_transport: httpx.AsyncBaseTransport | None = None
    """Test hook: transport used to fetch Client ID Metadata Documents (skips DNS pinning)."""

    @property
    def issuer(self) -> str:
        return self.base_url + self.issuer_path

    @property
    def mcp_url(self) -> str:
        return self.base_url + self.mcp_path

    def validate(self) -> None:
        if self.base_url.endswith("/") or "://" not in self.base_url:
            raise ValueError("base_url must look like scheme://host:port without a trailing slash")
        if self.issuer_path and (not self.issuer_path.startswith("/") or self.issuer_path.endswith("/")):
            raise ValueError("issuer_path must start with '/' and not end with '/'")
        if not self.mcp_path.startswith("/"):
            raise ValueError("mcp_path must start with '/'")
        if not 0 <= self.leeway <= 60:
            raise ValueError("leeway must be between 0 and 60 seconds")
        if self.fail_with not in FAIL_WITH_VALUES:
            raise ValueError(f"fail_with must be one of {FAIL_WITH_VALUES}")
        if self.protocol not in PROTOCOL_CHOICES:
            raise ValueError(f"protocol must be one of {PROTOCOL_CHOICES}")
        if self.access_token_ttl <= 0 or self.refresh_token_ttl <= 0 or self.code_ttl <= 0:
            raise ValueError("token lifetimes must be positive")
        if self.device_code_ttl <= 0 or not 0 <= self.device_interval <= 60:
            raise ValueError("device_code_ttl must be positive and device_interval 0..60 seconds")


@dataclass
class Knobs:
    """Fault and behaviour switches tests may flip while the server runs.

    Reach them in-process as ``app.state.mock.knobs`` or over HTTP through the control
    endpoint. Access is guarded by a lock because uvicorn handlers and test threads share it.
    """

    access_token_ttl: int
    refresh_token_ttl: int
    iss_in_response: bool
    advertise_iss: bool
    rotate_refresh_tokens: bool
    auto_approve: bool
    sse_responses: bool
    protocol: str = "auto"
    fail_next: int = 0
    fail_with: str = "503"
    latency: float = 0.0
    fail_retry_after: int = 1
    #: Authorization server migration (SEP-2352) tests: the issuer the protected
    #: resource metadata names and whose tokens the resource server accepts ("" = this one).
    authorization_server: str = ""
    #: The resource this authorization server serves ("" = its own /mcp): lets a second
    #: mock process, sharing --db (and so the signing key), act as the new AS of the first.
    resource: str = ""
    #: Hostile-server tests: the registration response names this URL as its
    #: ``registration_client_uri`` ("" = the server's own /register/<id>).
    registration_client_uri: str = ""
    #: Device authorization grant (RFC 8628): offered at all, code lifetime, poll interval,
    #: and how many of the next polls answer ``slow_down`` whatever their spacing.
    device_grant: bool = True
    device_code_ttl: int = 600
    device_interval: int = 5
    device_slow_down: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: MockConfig) -> Knobs:
        return cls(
            access_token_ttl=config.access_token_ttl,
            refresh_token_ttl=config.refresh_token_ttl,
            iss_in_response=config.iss_in_response,
            advertise_iss=config.iss_in_response,
            rotate_refresh_tokens=config.rotate_refresh_tokens,
            auto_approve=config.auto_approve,
            sse_responses=config.sse_responses,
            protocol=config.protocol,
            fail_next=config.fail_next,
            fail_with=config.fail_with,
            latency=float(config.latency),
            device_grant=config.device_grant,
            device_code_ttl=config.device_code_ttl,
            device_interval=config.device_interval,
        )

    def take_slow_down(self) -> bool:
        """Consume one forced ``slow_down`` answer, if any is pending."""
        with self._lock:
            if self.device_slow_down <= 0:
                return False
            self.device_slow_down -= 1
            return True

    def take_failure(self) -> str | None:
        """Consume one injected token-endpoint failure, if any is pending."""
        with self._lock:
            if self.fail_next <= 0:
                return None
            self.fail_next -= 1
            return self.fail_with

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply validated changes (from the control endpoint); returns the new public values."""
        allowed = {f.name: f.type for f in fields(self) if not f.name.startswith("_")}
        with self._lock:
            for key, value in changes.items():
                if key not in allowed:
                    raise ValueError(f"unknown knob {key!r}")
                current = getattr(self, key)
                if isinstance(current, bool):
                    if not isinstance(value, bool):
                        raise ValueError(f"{key} must be a boolean")
                elif isinstance(current, int):
                    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                        raise ValueError(f"{key} must be a non-negative integer")
                elif isinstance(current, float):
                    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 120:
                        raise ValueError(f"{key} must be a number of seconds between 0 and 120")
                    value = float(value)
                elif key == "fail_with" and value not in FAIL_WITH_VALUES:
                    raise ValueError(f"fail_with must be one of {FAIL_WITH_VALUES}")
                elif key in ("authorization_server", "resource", "registration_client_uri") and not (
                    isinstance(value, str)
                    and len(value) <= 2000
                    and (value == "" or value.startswith(("http://", "https://")))
                ):
                    raise ValueError(f"{key} must be an http(s) URL or empty")
                elif key == "protocol" and value not in PROTOCOL_CHOICES:
                    raise ValueError(f"protocol must be one of {PROTOCOL_CHOICES}")
                setattr(self, key, value)
            return self.snapshot_unlocked()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.snapshot_unlocked()

    def snapshot_unlocked(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
