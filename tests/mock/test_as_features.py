"""AS features beyond the catalogue: CIMD, RFC 7592, introspection, static clients, CORS,
metadata documents, JWKS, fault knobs and the control endpoint."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.mock.helpers import (
    BASE_URL,
    asgi_client,
    authorize_code,
    exchange_code,
    make_app,
    obtain_tokens,
    pkce_pair,
    refresh,
    register_public_client,
)

MCP = BASE_URL + "/mcp"


class _Docs(BaseHTTPRequestHandler):
    documents: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802
        status, headers, body = self.documents.get(self.path, (404, {}, b""))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture(scope="module")
def docs() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Docs)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def publish(path: str, document: Any, *, status: int = 200, content_type: str = "application/json", extra: dict[str, str] | None = None) -> None:
    _Docs.documents[path] = (status, {"Content-Type": content_type, **(extra or {})}, json.dumps(document).encode())


async def authorize_status(http: httpx.AsyncClient, client_id: str, redirect_uri: str = "http://127.0.0.1:5000/cb") -> httpx.Response:
    _, challenge = pkce_pair()
    return await http.get(BASE_URL + "/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "code_challenge": challenge,
        "code_challenge_method": "S256", "state": "s", "scope": "mcp:read", "resource": MCP})


async def test_cimd_client_is_fetched_validated_and_cached(docs: str) -> None:
    app, state = make_app(allow_http_cimd=True)
    good = docs + "/client.json"
    publish("/client.json", {"client_id": good, "client_name": "CIMD App", "redirect_uris": ["http://127.0.0.1/cb"],
                             "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"},
            extra={"Cache-Control": "max-age=300"})
    publish("/mismatch.json", {"client_id": docs + "/other.json", "client_name": "x", "redirect_uris": ["http://127.0.0.1/cb"]})
    publish("/secret.json", {"client_id": docs + "/secret.json", "client_name": "x", "redirect_uris": ["http://127.0.0.1/cb"],
                             "token_endpoint_auth_method": "client_secret_basic"})
    publish("/html.json", {"client_id": docs + "/html.json"}, content_type="text/html")
    _Docs.documents["/redirect.json"] = (302, {"Location": good}, b"")
    async with asgi_client(app) as http:
        first = await authorize_status(http, good)
        assert first.status_code == 303 and "code=" in first.headers["location"]
        code = first.headers["location"].split("code=")[1].split("&")[0]
        assert code
        await authorize_status(http, good)
        assert state.stats["cimd_fetch"] == 1
        for bad in ("/mismatch.json", "/secret.json", "/html.json", "/redirect.json", "/missing.json"):
            response = await authorize_status(http, docs + bad)
            assert response.status_code == 400 and "location" not in response.headers, bad
        wrong_redirect = await authorize_status(http, good, "https://evil.example/cb")
        assert wrong_redirect.status_code == 400
    state.close()


@pytest.mark.parametrize("client_id", [
    "https://10.0.0.1/client.json", "https://169.254.169.254/latest", "https://[::ffff:169.254.169.254]/x",
    "https://localhost/client.json", "https://127.0.0.1/client.json", "https://[::1]/c.json", "https://0.0.0.0/c",
    "https://user@example.com/c", "https://example.com/", "https://example.com/c#frag",
])
async def test_cimd_fetch_is_ssrf_protected(client_id: str) -> None:
    app, state = make_app()
    async with asgi_client(app) as http:
        response = await authorize_status(http, client_id)
    assert response.status_code == 400 and "location" not in response.headers
    assert state.stats["cimd_fetch"] == 0
    state.close()


async def test_plain_http_cimd_needs_the_test_flag(docs: str) -> None:
    app, state = make_app()
    publish("/plain.json", {"client_id": docs + "/plain.json", "client_name": "x", "redirect_uris": ["http://127.0.0.1/cb"]})
    async with asgi_client(app) as http:
        assert (await authorize_status(http, docs + "/plain.json")).status_code == 400
    state.close()


async def test_rfc7592_read_update_delete() -> None:
    app, state = make_app()
    async with asgi_client(app) as http:
        reg = await register_public_client(http, BASE_URL)
        uri, rat = reg["registration_client_uri"], reg["registration_access_token"]
        assert uri == BASE_URL + "/register/" + reg["client_id"]
        assert (await http.get(uri)).status_code == 401
        assert (await http.get(uri, headers={"Authorization": "Bearer wrong"})).status_code == 401
        read = await http.get(uri, headers={"Authorization": f"Bearer {rat}"})
        assert read.status_code == 200 and read.json()["client_name"] == "Test client"
        assert "registration_access_token" not in read.json()
        update = {k: v for k, v in read.json().items() if k not in ("registration_client_uri", "client_id_issued_at")}
        update["client_name"] = "Renamed"
        put = await http.put(uri, json=update, headers={"Authorization": f"Bearer {rat}"})
        assert put.status_code == 200 and put.json()["client_name"] == "Renamed"
        bad = await http.put(uri, json={**update, "redirect_uris": ["javascript:x"]}, headers={"Authorization": f"Bearer {rat}"})
        assert bad.status_code == 400
        tokens = (await exchange_code(http, BASE_URL, reg["client_id"],
                                      await authorize_code(http, BASE_URL, reg["client_id"], resource=MCP), resource=MCP)).json()
        assert (await http.delete(uri, headers={"Authorization": f"Bearer {rat}"})).status_code == 204
        assert (await http.get(uri, headers={"Authorization": f"Bearer {rat}"})).status_code == 401
        assert (await refresh(http, BASE_URL, reg["client_id"], tokens["refresh_token"], resource=MCP)).status_code == 401
        mcp = await http.post(MCP, headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
                              json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert mcp.status_code == 401
    state.close()


def write_clients(tmp_path: Path) -> str:
    path = tmp_path / "clients.json"
    path.write_text(json.dumps([
        {"client_id": "desk", "client_name": "Desktop", "redirect_uris": ["http://127.0.0.1/callback"],
         "grant_types": ["authorization_code", "refresh_token"]},
        {"client_id": "conf-basic", "client_secret": "s3cret-basic", "redirect_uris": ["http://127.0.0.1/callback"],
         "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "client_secret_basic"},
        {"client_id": "conf-post", "client_secret": "s3cret-post", "redirect_uris": ["http://127.0.0.1/callback"],
         "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "client_secret_post"},
    ]))
    return str(path)


async def test_static_clients_and_client_authentication(tmp_path: Path) -> None:
    app, state = make_app(clients_file=write_clients(tmp_path))
    async with asgi_client(app) as http:
        async def code_for(client_id: str) -> dict[str, str]:
            auth = await authorize_code(http, BASE_URL, client_id, resource=MCP)
            return {"grant_type": "authorization_code", "code": auth.code, "redirect_uri": auth.redirect_uri,
                    "code_verifier": auth.verifier, "resource": MCP}

        assert (await http.post(BASE_URL + "/token", data={**await code_for("desk"), "client_id": "desk"})).status_code == 200
        form = await code_for("conf-basic")
        assert (await http.post(BASE_URL + "/token", data={**form, "client_id": "conf-basic", "client_secret": "s3cret-basic"})).status_code == 401
        assert (await http.post(BASE_URL + "/token", data=form, auth=("conf-basic", "nope"))).status_code == 401
        ok = await http.post(BASE_URL + "/token", data=form, auth=("conf-basic", "s3cret-basic"))
        assert ok.status_code == 200
        at = ok.json()["access_token"]
        # Introspection: confidential clients only, and only their own tokens.
        intro = await http.post(BASE_URL + "/introspect", data={"token": at}, auth=("conf-basic", "s3cret-basic"))
        assert intro.json()["active"] is True and intro.json()["aud"] == MCP and intro.json()["client_id"] == "conf-basic"
        assert (await http.post(BASE_URL + "/introspect", data={"token": at, "client_id": "desk"})).status_code == 401
        foreign = await http.post(BASE_URL + "/introspect", data={"token": at, "client_id": "conf-post", "client_secret": "s3cret-post"})
        assert foreign.json() == {"active": False}
        await http.post(BASE_URL + "/revoke", data={"token": at}, auth=("conf-basic", "s3cret-basic"))
        gone = await http.post(BASE_URL + "/introspect", data={"token": at}, auth=("conf-basic", "s3cret-basic"))
        assert gone.json() == {"active": False}
        form = await code_for("conf-post")
        assert (await http.post(BASE_URL + "/token", data=form, auth=("conf-post", "s3cret-post"))).status_code == 401
        assert (await http.post(BASE_URL + "/token", data={**form, "client_id": "conf-post", "client_secret": "s3cret-post"})).status_code == 200
    state.close()


def test_invalid_static_clients_file_stops_the_server(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"client_id": "x", "redirect_uris": ["http://evil.example/cb"]}]))
    with pytest.raises(ValueError, match="entry 0"):
        make_app(clients_file=str(path))


@pytest.mark.parametrize("issuer_path", ["", "/tenant1"])
async def test_metadata_documents_and_jwks(issuer_path: str) -> None:
    app, state = make_app(issuer_path=issuer_path)
    issuer = BASE_URL + issuer_path
    async with asgi_client(app) as http:
        urls = (["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] if not issuer_path else
                [f"/.well-known/oauth-authorization-server{issuer_path}", f"/.well-known/openid-configuration{issuer_path}",
                 f"{issuer_path}/.well-known/openid-configuration"])
        for url in urls:
            doc = (await http.get(url)).json()
            assert doc["issuer"] == issuer and doc["token_endpoint"] == issuer + "/token"
            assert doc["client_id_metadata_document_supported"] is True and "offline_access" in doc["scopes_supported"]
            for key in ("registration_endpoint", "revocation_endpoint", "introspection_endpoint", "jwks_uri"):
                assert doc[key].startswith(issuer + "/")
        if issuer_path:
            assert (await http.get("/.well-known/oauth-authorization-server")).status_code == 404
        for prm_url in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
            prm = (await http.get(prm_url)).json()
            assert prm["resource"] == MCP and prm["authorization_servers"] == [issuer]
            assert "offline_access" not in prm["scopes_supported"]
        _, tokens = await obtain_tokens(http, issuer, MCP)
        jwk = (await http.get(issuer + "/jwks.json")).json()["keys"][0]
        header_b64, payload_b64, sig_b64 = tokens["access_token"].split(".")
        header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
        assert header == {"alg": "ES256", "kid": jwk["kid"], "typ": "at+jwt"}

        def b64(s: str) -> int:
            return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")

        public = ec.EllipticCurvePublicNumbers(b64(jwk["x"]), b64(jwk["y"]), ec.SECP256R1()).public_key()
        raw = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
        public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                      f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    state.close()


async def test_rs256_keys_work_end_to_end() -> None:
    app, state = make_app(signing_alg="RS256")
    async with asgi_client(app) as http:
        _, tokens = await obtain_tokens(http, BASE_URL, MCP)
        assert (await http.get(BASE_URL + "/jwks.json")).json()["keys"][0]["kty"] == "RSA"
        r = await http.post(MCP, headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
                            json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                  "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
        assert r.status_code == 200
    state.close()


async def test_cors_only_on_metadata_token_and_registration() -> None:
    app, state = make_app()
    origin = {"Origin": "https://web-client.example", "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "content-type"}
    async with asgi_client(app) as http:
        for path in ("/token", "/register", "/.well-known/oauth-authorization-server", "/jwks.json"):
            pre = await http.options(path, headers=origin)
            assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*", path
            assert "access-control-allow-credentials" not in pre.headers
        md = await http.get("/.well-known/oauth-protected-resource", headers={"Origin": "https://web-client.example"})
        assert md.headers["access-control-allow-origin"] == "*"
        for path in ("/authorize", "/mcp", "/revoke", "/introspect"):
            pre = await http.options(path, headers=origin)
            assert "access-control-allow-origin" not in pre.headers, path
    state.close()


@pytest.mark.parametrize(("fail_with", "status", "error"), [("503", 503, "temporarily_unavailable"),
                                                          ("429", 429, "temporarily_unavailable"),
                                                          ("invalid_grant", 400, "invalid_grant")])
async def test_fault_injection_on_the_token_endpoint(fail_with: str, status: int, error: str) -> None:
    app, state = make_app(fail_with=fail_with)
    async with asgi_client(app) as http:
        client_id, tokens = await obtain_tokens(http, BASE_URL, MCP)
        state.knobs.update({"fail_next": 2})
        for _ in range(2):
            failed = await refresh(http, BASE_URL, client_id, tokens["refresh_token"], resource=MCP)
            assert failed.status_code == status and failed.json()["error"] == error
            if status != 400:
                assert failed.headers["retry-after"] == "1"
        # Injected failures never consume the refresh token.
        assert (await refresh(http, BASE_URL, client_id, tokens["refresh_token"], resource=MCP)).status_code == 200
        assert state.stats["injected_failures"] == 2
    state.close()


async def test_iss_and_rotation_knobs() -> None:
    app, state = make_app(iss_in_response=False, rotate_refresh_tokens=False)
    async with asgi_client(app) as http:
        md = (await http.get("/.well-known/oauth-authorization-server")).json()
        assert md["authorization_response_iss_parameter_supported"] is False
        client = await register_public_client(http, BASE_URL)
        auth = await authorize_code(http, BASE_URL, client["client_id"], resource=MCP)
        assert auth.iss is None
        tokens = (await exchange_code(http, BASE_URL, client["client_id"], auth, resource=MCP)).json()
        for _ in range(2):
            again = await refresh(http, BASE_URL, client["client_id"], tokens["refresh_token"], resource=MCP)
            assert again.status_code == 200 and "refresh_token" not in again.json()
    state.close()


async def test_refresh_token_only_for_clients_that_registered_the_grant() -> None:
    app, state = make_app()
    async with asgi_client(app) as http:
        client = await register_public_client(http, BASE_URL, grant_types=["authorization_code"])
        auth = await authorize_code(http, BASE_URL, client["client_id"], resource=MCP)
        body = (await exchange_code(http, BASE_URL, client["client_id"], auth, resource=MCP)).json()
        assert "refresh_token" not in body and body["access_token"]
    state.close()


async def test_control_endpoint_is_guarded() -> None:
    app, state = make_app(control_token="control-secret")
    async with asgi_client(app) as http:
        url = BASE_URL + "/__mock__/control"
        assert (await http.post(url, json={})).status_code == 403
        assert (await http.post(url, json={}, headers={"X-Mock-Control-Token": "wrong"})).status_code == 403
        ok = await http.post(url, json={"knobs": {"fail_next": 3, "latency": 0}, "advance_clock": 10},
                             headers={"X-Mock-Control-Token": "control-secret"})
        assert ok.status_code == 200 and ok.json()["knobs"]["fail_next"] == 3
        bad = await http.post(url, json={"knobs": {"fail_with": "500"}}, headers={"X-Mock-Control-Token": "control-secret"})
        assert bad.status_code == 400
    remote_transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1234))
    async with httpx.AsyncClient(transport=remote_transport, base_url=BASE_URL) as remote:
        denied = await remote.post("/__mock__/control", json={}, headers={"X-Mock-Control-Token": "control-secret"})
        assert denied.status_code == 404
    state.close()
    app2, state2 = make_app()
    async with asgi_client(app2) as http:
        assert (await http.post(BASE_URL + "/__mock__/control", json={}, headers={"X-Mock-Control-Token": ""})).status_code == 404
    state2.close()


async def test_optional_resource_defaults_the_audience_to_the_mcp_url() -> None:
    app, state = make_app(require_resource=False)
    async with asgi_client(app) as http:
        reg = await http.post(BASE_URL + "/register", json={
            "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none", "application_type": "native"})
        assert reg.status_code == 201 and reg.headers["cache-control"] == "no-store"
        client_id = reg.json()["client_id"]
        verifier, challenge = pkce_pair()
        response = await http.get(BASE_URL + "/authorize", params={
            "response_type": "code", "client_id": client_id, "redirect_uri": "http://127.0.0.1:6000/cb",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        code = response.headers["location"].split("code=")[1].split("&")[0]
        token = await http.post(BASE_URL + "/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": client_id, "code_verifier": verifier})
        body = token.json()
        payload = body["access_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["aud"] == MCP and body["scope"] == "mcp:read" and "refresh_token" not in body
    state.close()
