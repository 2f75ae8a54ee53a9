"""`mcp-auth-mock-server` / `python -m mock_server`: run the mock on uvicorn.

The first stdout line is the MCP URL (e.g. http://127.0.0.1:41234/mcp), printed once the
socket listens, so scripts can start the server on port 0 and read where it is.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import sys
import tempfile
from pathlib import Path

import uvicorn

from mock_server.app import create_app
from mock_server.config import FAIL_WITH_VALUES, PROTOCOL_CHOICES, MockConfig

CONTROL_TOKEN_ENV = "MCP_AUTH_MOCK_CONTROL_TOKEN"

EPILOG = f"""
test knobs can also be changed while running: set {CONTROL_TOKEN_ENV} in the environment
to enable POST /__mock__/control (loopback only, header X-Mock-Control-Token).
See docs/MOCK_SERVER.md.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-auth-mock-server",
        description="A local MCP server (Streamable HTTP) with a hardened OAuth 2.1 authorization server.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    p.add_argument("--db", default=":memory:", help="SQLite database file, or :memory: (default)")
    p.add_argument("--issuer-path", default="", help='path part of the issuer, e.g. "/tenant1"')
    p.add_argument("--public-host", default=None,
                   help="host name to put in URLs when binding 0.0.0.0 (default: the bind address)")
    p.add_argument("--public-url", default=None,
                   help="scheme://host:port clients use to reach this server (e.g. behind a proxy); "
                        "overrides the URL derived from the bound socket")
    p.add_argument("--allowed-host", action="append", default=[],
                   help="extra accepted Host header value (repeatable)")
    tls = p.add_argument_group("TLS")
    tls.add_argument("--tls-cert", help="PEM certificate (with --tls-key)")
    tls.add_argument("--tls-key", help="PEM private key (with --tls-cert)")
    tls.add_argument("--tls-self-signed", action="store_true",
                     help="generate a self-signed certificate for 127.0.0.1/::1/localhost "
                          "(written to --tls-cert/--tls-key paths when given, else a temp dir)")
    auth = p.add_argument_group("authorization server")
    auth.add_argument("--auto-approve", action="store_true", help="skip the consent page (automated tests)")
    auth.add_argument("--clients-file", help="JSON array of pre-registered clients")
    auth.add_argument("--allow-http-cimd", action="store_true",
                      help="accept Client ID Metadata Documents on http loopback URLs (tests only)")
    auth.add_argument("--signing-alg", choices=["ES256", "RS256"], default="ES256")
    auth.add_argument("--subject", default="demo-user", help="the user every grant is for")
    auth.add_argument("--email", default="demo-user@example.com",
                      help="the user's e-mail (ID token and /userinfo, with the email scope)")
    auth.add_argument("--optional-resource", action="store_true",
                      help="accept requests without the RFC 8707 resource parameter (default: reject)")
    mcp = p.add_argument_group("MCP")
    mcp.add_argument("--protocol", choices=PROTOCOL_CHOICES, default="auto",
                     help="MCP revision spoken at /mcp: auto (2026-07-28 and the handshake-era revisions, "
                          "chosen per request) or one pinned (default auto)")
    knobs = p.add_argument_group("test knobs")
    knobs.add_argument("--access-token-ttl", type=int, default=300, help="seconds (default 300)")
    knobs.add_argument("--refresh-token-ttl", type=int, default=86400, help="seconds (default 86400)")
    knobs.add_argument("--fail-next", type=int, default=0, metavar="N",
                       help="the next N token requests fail (see --fail-with)")
    knobs.add_argument("--fail-with", choices=FAIL_WITH_VALUES, default="503",
                       help="how --fail-next requests fail: 503, 429 (both with Retry-After) or invalid_grant")
    knobs.add_argument("--latency", type=float, default=0.0,
                       help="seconds added to token, revocation, introspection and registration requests")
    knobs.add_argument("--no-iss", action="store_true",
                       help="omit iss from authorization responses and stop advertising it")
    knobs.add_argument("--no-rotation", action="store_true",
                       help="keep refresh tokens on refresh (no new refresh_token returned)")
    knobs.add_argument("--leeway", type=int, default=5, help="clock leeway in seconds for exp/nbf (0-60)")
    knobs.add_argument("--sse", action="store_true",
                       help="answer /mcp with SSE when the client accepts both JSON and SSE")
    knobs.add_argument("--rate-limit-per-ip", type=int, default=600,
                       help="requests per window per IP and endpoint (default 600)")
    knobs.add_argument("--rate-limit-per-client", type=int, default=240,
                       help="requests per window per client, source address and endpoint (default 240)")
    knobs.add_argument("--no-auth", action="store_true",
                       help="serve /mcp without the bearer check (for the conformance suite's server "
                            "scenarios, which send no token); never use it otherwise")
    knobs.add_argument("--rate-limit-window", type=float, default=60.0, help="seconds (default 60)")
    device = p.add_argument_group("device authorization grant (RFC 8628)")
    device.add_argument("--no-device-grant", action="store_true",
                        help="do not offer the device grant (no device_authorization_endpoint)")
    device.add_argument("--device-code-ttl", type=int, default=600,
                        help="seconds a device code stays valid: its expires_in (default 600)")
    device.add_argument("--device-interval", type=int, default=5,
                        help="seconds between polls the client is told: its interval (default 5)")
    device.add_argument("--device-wrong-code-limit", type=int, default=5,
                        help="wrong user codes per address in 5 minutes before the page refuses it")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("error: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # says TCP, and without it every response body waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Lets a restarted server take its old port while old connections sit in TIME_WAIT;
    # Linux still refuses a second live listener on the port.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    cert, key = args.tls_cert, args.tls_key
    if args.tls_self_signed:
        from mock_server.tls import write_self_signed

        if not cert:
            tmp = Path(tempfile.mkdtemp(prefix="mcp-auth-mock-tls-"))
            cert, key = str(tmp / "cert.pem"), str(tmp / "key.pem")
        write_self_signed(Path(cert), Path(key))
        print(f"mock server self-signed certificate: {cert}", file=sys.stderr, flush=True)
    scheme = "https" if cert else "http"
    host = args.public_host or args.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    base_url = args.public_url.rstrip("/") if args.public_url else f"{scheme}://{host}:{port}"
    config = MockConfig(
        base_url=base_url,
        issuer_path=args.issuer_path,
        db_path=args.db,
        auto_approve=args.auto_approve,
        access_token_ttl=args.access_token_ttl,
        refresh_token_ttl=args.refresh_token_ttl,
        leeway=args.leeway,
        iss_in_response=not args.no_iss,
        rotate_refresh_tokens=not args.no_rotation,
        allow_http_cimd=args.allow_http_cimd,
        clients_file=args.clients_file,
        control_token=os.environ.get(CONTROL_TOKEN_ENV) or None,
        fail_next=args.fail_next,
        fail_with=args.fail_with,
        latency=args.latency,
        rate_limit_per_ip=args.rate_limit_per_ip,
        rate_limit_per_client=args.rate_limit_per_client,
        rate_limit_window=args.rate_limit_window,
        allowed_hosts=tuple(args.allowed_host),
        subject=args.subject,
        email=args.email,
        require_resource=not args.optional_resource,
        sse_responses=args.sse,
        signing_alg=args.signing_alg,
        protocol=args.protocol,
        require_auth=not args.no_auth,
        device_grant=not args.no_device_grant,
        device_code_ttl=args.device_code_ttl,
        device_interval=args.device_interval,
        device_wrong_code_limit=args.device_wrong_code_limit,
    )
    try:
        app = create_app(config)
    except (ValueError, OSError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            ssl_certfile=cert,
            ssl_keyfile=key,
            timeout_graceful_shutdown=3,
            h11_max_incomplete_event_size=64 * 1024,
        )
    )
    print(config.mcp_url, flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
