"""Issue 15 #10 (DNS rebinding) and #7 (a settings file cannot turn off the transport rule).

Real TLS and plain-TCP listeners on this machine only: 127.0.0.1, 127.0.0.2 and the
container's own non-loopback interface address (a real host that is not loopback,
reached without leaving the machine). Names resolve through an injected resolver.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mcp_auth_desktop.core.errors import InsecureUrlError, TlsError
from mcp_auth_desktop.core.http import fetch_json, make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.urls import UrlGuard
from mcp_auth_desktop.storage import open_storage
from tests.mock.helpers import MockProcess, running_mock
from tests.start_page import HeadlessApprover

NAME = "as.rebind.example.test"


@dataclass
class Listener:
    """A tiny HTTP/1.1 server that answers every request with a JSON object and keeps the heads."""

    heads: list[bytes] = field(default_factory=list)
    server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        self.heads.append(head)
        body = json.dumps({"issuer": "x"}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> int:
        self.server = await asyncio.start_server(self.handle, host, port, ssl=tls)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def make_ca_and_leaf(tmp: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """A test CA (trusted by the client) and a leaf certificate for ``name`` only."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rebinding test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / f"{name}.pem", tmp / f"{name}.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    return ca_file, server_ctx


class RebindingResolver:
    """Answers ``first`` for the first lookup of a name, ``then`` for every later one."""

    def __init__(self, first: str, then: str) -> None:
        self.first, self.then = first, then
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        return [self.first] if len(self.calls) == 1 else [self.then]


@pytest.fixture
async def two_listeners(tmp_path: Path) -> AsyncIterator[tuple[Listener, Listener, int, Path]]:
    """A TLS listener for NAME on 127.0.0.1 and one on 127.0.0.2, same port."""
    ca_file, server_ctx = make_ca_and_leaf(tmp_path, NAME)
    checked, rebound = Listener(), Listener()
    for _ in range(20):
        port = await checked.start("127.0.0.1", 0, server_ctx)
        try:
            await rebound.start("127.0.0.2", port, server_ctx)
            break
        except OSError:
            await checked.stop()
    else:
        pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")
    yield checked, rebound, port, ca_file
    await checked.stop()
    await rebound.stop()


async def test_rebinding_resolver_cannot_redirect_the_connection(
    two_listeners: tuple[Listener, Listener, int, Path],
) -> None:
    checked, rebound, port, ca_file = two_listeners
    resolver = RebindingResolver("127.0.0.1", "127.0.0.2")
    # The MCP server is on loopback, so a loopback authorization server passes the guard.
    guard = UrlGuard(server_url="https://127.0.0.1:1/mcp", resolver=resolver)
    async with make_http_client(verify=ssl.create_default_context(cafile=str(ca_file))) as http:
        for _ in range(2):
            response, body = await fetch_json(
                http, "GET", f"https://{NAME}:{port}/.well-known/oauth-authorization-server", guard=guard
            )
            assert response.status_code == 200 and body == {"issuer": "x"}
    # The first request went to the address that was checked; the second was checked
    # again (the rebinding answer 127.0.0.2) and went there: no lookup is ever made
    # that the guard did not see, and each request dials what its check allowed.
    assert len(checked.heads) == 1 and len(rebound.heads) == 1
    assert resolver.calls == [NAME, NAME]
    # Host keeps the name (the server sees the name it was asked by).
    assert f"host: {NAME}:{port}".encode() in checked.heads[0].lower()


async def test_pinned_connection_never_resolves_again(two_listeners: tuple[Listener, Listener, int, Path]) -> None:
    """Check, then connect: the connection must not ask DNS again (the rebinding window)."""
    checked, rebound, port, ca_file = two_listeners
    resolver = RebindingResolver("127.0.0.1", "10.0.0.1")
    guard = UrlGuard(server_url="https://127.0.0.1:1/mcp", resolver=resolver)
    url = f"https://{NAME}:{port}/.well-known/oauth-authorization-server"
    async with make_http_client(verify=ssl.create_default_context(cafile=str(ca_file))) as http:
        response, _ = await fetch_json(http, "GET", url, guard=guard)
        assert response.status_code == 200
        # A second check now sees the private answer and refuses before any connection.
        with pytest.raises(InsecureUrlError, match="private address"):
            await fetch_json(http, "GET", url, guard=guard)
    assert len(checked.heads) == 1 and rebound.heads == []


async def test_pinned_address_still_verifies_the_certificate_name(tmp_path: Path) -> None:
    """A pinned address does not weaken TLS: the certificate must be for the name in the URL."""
    ca_file, other_ctx = make_ca_and_leaf(tmp_path, "other.example.test")
    impostor = Listener()
    port = await impostor.start("127.0.0.1", 0, other_ctx)
    try:
        guard = UrlGuard(server_url="https://127.0.0.1:1/mcp", resolver=RebindingResolver("127.0.0.1", "127.0.0.1"))
        async with make_http_client(verify=ssl.create_default_context(cafile=str(ca_file))) as http:
            with pytest.raises(TlsError, match=NAME):
                await fetch_json(http, "GET", f"https://{NAME}:{port}/x", guard=guard)
            # The right name on the same pinned address is accepted (SNI and check use the name).
            guard2 = UrlGuard(server_url="https://127.0.0.1:1/mcp",
                              resolver=RebindingResolver("127.0.0.1", "127.0.0.1"))
            response, _ = await fetch_json(http, "GET", f"https://other.example.test:{port}/x", guard=guard2)
            assert response.status_code == 200
    finally:
        await impostor.stop()
    assert len(impostor.heads) == 1


# ---------------------------------------------------------------- issue 15 #7


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    with running_mock("--auto-approve") as proc:
        yield proc


def non_loopback_address() -> str:
    """This machine's own address on a non-loopback interface (traffic stays on the machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))  # UDP connect sends nothing; it picks the outgoing interface
        address = str(s.getsockname()[0])
    assert not ipaddress.ip_address(address).is_loopback, address
    return address


async def test_shared_client_refuses_plain_http_to_a_non_loopback_host_before_sending() -> None:
    host = non_loopback_address()
    listener = Listener()
    port = await listener.start(host, 0)
    try:
        async with make_http_client() as http:
            with pytest.raises(InsecureUrlError, match="only over https"):
                await http.post(f"http://{host}:{port}/token",
                                data={"grant_type": "refresh_token", "refresh_token": "RT-CANARY"})
            with pytest.raises(InsecureUrlError, match="A settings file cannot change this"):
                await http.get(f"http://{host}:{port}/mcp", headers={"Authorization": "Bearer AT-CANARY"})
        await asyncio.sleep(0.2)
    finally:
        await listener.stop()
    assert listener.heads == []


@pytest.mark.allow_warning_logs
async def test_edited_settings_json_cannot_send_a_token_over_plain_http(
    mock: MockProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign in for real, then edit settings.json by hand: the server URL becomes plain http
    to a host that is not loopback, with the loopback switch on and a resource override that
    keeps the tokens attached. The edit is refused (the vault's copy is used, the user is
    told) and no token reaches that host."""
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(tmp_path / "home"))
    host = non_loopback_address()
    listener = Listener()
    port = await listener.start(host, 0)
    passphrase = "settings edit test passphrase"
    notes: list[str] = []

    async def manager() -> tuple[TokenManager, object]:
        vault, settings = open_storage(tmp_path / "home", passphrase_provider=lambda: passphrase, scrypt_n=2**10)
        http = make_http_client()
        m = TokenManager(http=http, vault=vault, settings=settings, browser=HeadlessApprover())
        m.subscribe(lambda e: notes.append(str(getattr(e, "message", ""))))
        await m.start(background=False)
        return m, http

    try:
        m, http = await manager()
        await m.add_server(mock.mcp_url, name="mock", options=ServerOptions(allow_insecure_loopback=True))
        await m.sign_in("mock")
        await m.aclose()
        await http.aclose()  # type: ignore[attr-defined]

        [settings_file] = [p for p in (tmp_path / "home").rglob("settings.json") if mock.mcp_url in p.read_text()]
        data = json.loads(settings_file.read_text())
        # The attacker's edit: the server URL goes to plain http on another host, and the
        # resource override keeps the stored tokens attached to the entry.
        [entry] = data["servers"]
        entry["url"] = f"http://{host}:{port}/mcp"
        entry["options"]["resource_override"] = mock.mcp_url
        entry["options"]["allow_insecure_loopback"] = True
        settings_file.write_text(json.dumps(data))

        m, http = await manager()
        try:
            # The edit is refused: the vault's copy of the URL and options is used.
            await m.call("mock", "tools/list")
            assert m.get("mock").url == mock.mcp_url
        finally:
            await m.aclose()
            await http.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0.2)
    finally:
        await listener.stop()
    assert any("changed outside MCP Auth Desktop" in n for n in notes), notes
    assert listener.heads == [], "a request (with a token) reached a plain-http host that is not loopback"


@pytest.mark.allow_warning_logs
async def test_edited_token_endpoint_in_settings_json_gets_no_refresh_token(
    mock: MockProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The discovered token endpoint edited to another local service: refresh still goes
    to the real authorization server (the vault's copy), the other service gets nothing."""
    monkeypatch.setenv("MCP_AUTH_DESKTOP_HOME", str(tmp_path / "home"))
    listener = Listener()
    port = await listener.start("127.0.0.1", 0)
    notes: list[str] = []

    async def manager() -> tuple[TokenManager, object]:
        vault, settings = open_storage(tmp_path / "home", passphrase_provider=lambda: "seal test passphrase",
                                       scrypt_n=2**10)
        http = make_http_client()
        m = TokenManager(http=http, vault=vault, settings=settings, browser=HeadlessApprover())
        m.subscribe(lambda e: notes.append(str(getattr(e, "message", ""))))
        await m.start(background=False)
        return m, http

    try:
        m, http = await manager()
        await m.add_server(mock.mcp_url, name="mock", options=ServerOptions(allow_insecure_loopback=True))
        await m.sign_in("mock")
        await m.aclose()
        await http.aclose()  # type: ignore[attr-defined]
        [settings_file] = [p for p in (tmp_path / "home").rglob("settings.json") if mock.mcp_url in p.read_text()]
        data = json.loads(settings_file.read_text())
        [entry] = data["discovery"].values()
        entry["auth_server"]["token_endpoint"] = f"http://127.0.0.1:{port}/token"
        settings_file.write_text(json.dumps(data))
        before = int(mock.control()["stats"].get("token_requests:refresh_token", 0))
        m, http = await manager()
        try:
            await m.refresh("mock")
        finally:
            await m.aclose()
            await http.aclose()  # type: ignore[attr-defined]
        assert int(mock.control()["stats"].get("token_requests:refresh_token", 0)) == before + 1
        await asyncio.sleep(0.2)
    finally:
        await listener.stop()
    assert listener.heads == [], "the refresh token went to the endpoint named by the edited settings.json"
    assert any("discovered endpoints" in n and "changed outside" in n for n in notes), notes
