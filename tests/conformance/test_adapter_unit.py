"""Fast tests of the conformance adapter's and runner's own helpers (no Node needed)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mcp_auth_desktop.core.errors import AuthorizationError, SignInRequiredError
from mcp_auth_desktop.core.loopback import LoopbackListener
from tests.conformance import run
from tests.conformance.adapter import (
    CIMD_URL,
    AuthBudget,
    HeadlessUserAgent,
    arguments_for,
    parse_context,
    pick_tool,
    planned_calls,
    redirect_location,
    server_config_for,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, {}),
        ("", {}),
        ("not json", {}),
        ("[1, 2]", {}),
        ('{"client_id": "abc", "client_secret": "s"}', {"client_id": "abc", "client_secret": "s"}),
    ],
)
def test_parse_context(raw: str | None, expected: dict[str, str]) -> None:
    assert parse_context(raw) == expected


def test_server_config_for_pre_registration_uses_basic_auth() -> None:
    config, secret = server_config_for(
        "http://localhost:1234/mcp", {"client_id": "pre-id", "client_secret": "pre-secret"}
    )
    assert config.client_id == "pre-id" and config.client_auth_method == "client_secret_basic"
    assert secret == "pre-secret"
    assert config.options.allow_insecure_loopback
    assert config.options.client_metadata_url == CIMD_URL
    assert "pre-secret" not in repr(config)


def test_server_config_for_without_context_leaves_identity_to_cimd_or_dcr() -> None:
    config, secret = server_config_for("http://localhost:1234/mcp", {"client_id": 5, "client_secret": "x"})
    assert config.client_id is None and config.client_auth_method is None and secret is None
    assert config.options.client_metadata_url == "https://conformance-test.local/client-metadata.json"


def test_redirect_location() -> None:
    base = "http://localhost:9/authorize?x=1"
    assert redirect_location(302, {"location": "http://127.0.0.1:5/callback?code=c"}, base) == (
        "http://127.0.0.1:5/callback?code=c"
    )
    assert redirect_location(303, {"location": "/next"}, base) == "http://localhost:9/next"
    assert redirect_location(200, {"location": "http://x/"}, base) is None
    assert redirect_location(302, {}, base) is None


def test_auth_budget_allows_three_then_refuses() -> None:
    budget = AuthBudget()
    for _ in range(3):
        budget.take("test")
    with pytest.raises(SignInRequiredError, match="after 3 authorization requests"):
        budget.take("test")


def test_arguments_for_and_pick_tool() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "integer"}, "s": {"type": "string"}, "o": {}},
        "required": ["a", "b", "s", "o"],
    }
    assert arguments_for(schema) == {"a": 1, "b": 1, "s": "conformance", "o": "conformance"}
    assert arguments_for({"type": "object"}) == {}
    assert arguments_for(None) == {}
    tools = [{"name": "other", "inputSchema": schema}, {"name": "test-tool", "inputSchema": {}}]
    assert pick_tool(tools) == ("test-tool", {})
    assert pick_tool(tools[:1]) == ("other", arguments_for(schema))
    assert pick_tool([]) is None


async def test_headless_user_agent_delivers_the_redirect_to_the_real_listener() -> None:
    """The adapter's "browser": AS (ASGI) -> 302 -> our LoopbackListener over a real socket."""
    seen: list[str] = []

    async def authorize(request: Request) -> Response:
        seen.append(str(request.url))
        q = request.query_params
        if q.get("deny"):
            return Response("no", status_code=400)
        return RedirectResponse(f"{q['redirect_uri']}?code=the-code&state={q['state']}", status_code=302)

    as_app = Starlette(routes=[Route("/authorize", authorize)])
    async with httpx.AsyncClient(mounts={"http://as.test": httpx.ASGITransport(app=as_app)}) as http:
        agent = HeadlessUserAgent(http)
        async with LoopbackListener() as lst:
            lst.expect_state("st" * 16)
            await agent.open(f"http://as.test/authorize?redirect_uri={lst.redirect_uri}&state={'st' * 16}")
            params = await asyncio.wait_for(lst.wait(), 10)
            lst.report(True, "done")
            await agent.drain()
        assert params == {"code": "the-code", "state": "st" * 16}
        assert parse_qs(urlsplit(seen[0]).query)["redirect_uri"] == [lst.redirect_uri]
        with pytest.raises(AuthorizationError, match="HTTP 400"):
            await agent.open("http://as.test/authorize?deny=1")


def test_probe_source_replaces_the_cli_entry_point() -> None:
    bundle = '#!/usr/bin/env node\nimport x from"y";let a={all:B,auth:sn,"sep-835":()=>sn().filter(e=>e)},o=1;$.parse();export{};\n'
    probe = run.probe_source(bundle)
    assert not probe.startswith("#!")
    assert "$.parse()" not in probe
    assert probe.endswith(
        'console.log(JSON.stringify(Object.fromEntries(Object.entries({all:B,auth:sn,"sep-835":()=>sn().filter(e=>e)}).map(([k,f])=>[k,f()]))));export{};'
    )
    with pytest.raises(ValueError):
        run.probe_source("console.log(1)")
    # 0.2.x renames the commander object in its minified bundle.
    renamed = run.probe_source('let t={all:oc,core:dc},x=1;Nu.parse();export{};')
    assert "Nu.parse()" not in renamed and renamed.startswith("let t={all:oc,core:dc},x=1;console.log(")


def test_summarize_counts_and_single_scenario_rules() -> None:
    ok = [{"status": "SUCCESS", "name": "a"}, {"status": "INFO", "name": "i"}]
    assert run.summarize("s", ok, 0).passed
    warned = run.summarize("s", [*ok, {"status": "WARNING", "name": "w", "description": "should"}], 0)
    assert not warned.passed and warned.warnings == 1 and "WARNING w: should" in warned.problems
    failed = run.summarize("s", [*ok, {"status": "FAILURE", "name": "f", "errorMessage": "bad"}], 1)
    assert not failed.passed and failed.failures == 1 and failed.problems == ["FAILURE f: bad"]
    assert not run.summarize("s", ok, 1).passed  # non-zero exit
    assert not run.summarize("s", [], 0).passed  # no checks at all is no pass
    line = run.summarize("auth/x", ok, 0).line()
    assert line.startswith("PASS auth/x") and "1 passed, 0 failed, 0 warnings" in line


def test_adapter_command_has_no_spaces_and_names_the_module() -> None:
    cmd = run.adapter_command()
    assert cmd.endswith("-m tests.conformance.adapter") or cmd.endswith("adapter.sh")
    assert len(cmd.split(" ")) in (1, 3)


def test_context_json_round_trip_matches_the_suite_format() -> None:
    ctx = {"client_id": "id-1", "client_secret": "secret-1"}
    config, secret = server_config_for("http://localhost:1/mcp", parse_context(json.dumps(ctx)))
    assert (config.client_id, secret) == ("id-1", "secret-1")


def test_planned_calls_follow_the_context_then_the_scenario() -> None:
    tools = [
        {"name": "json_schema_2020_12_tool", "inputSchema": {"$schema": "x", "type": "object"}},
        {"name": "json_schema_echo", "inputSchema": {"type": "object", "required": ["schema"],
                                                     "properties": {"schema": {"type": "object"}}}},
    ]
    # The echo tool gets the other tool's schema, unchanged.
    assert planned_calls("json-schema-2020-12-preservation", tools, {}) == [
        ("json_schema_2020_12_tool", {}),
        ("json_schema_echo", {"schema": {"$schema": "x", "type": "object"}}),
    ]
    named = {"toolCalls": [{"name": "t", "arguments": {"a": None}}, {"bad": 1}, {"name": "u"}]}
    assert planned_calls("http-custom-headers", tools, named) == [("t", {"a": None}), ("u", {})]
    assert planned_calls("auth/metadata-default", [{"name": "test-tool"}, {"name": "x"}], {}) == [
        ("test-tool", {})
    ]


def test_client_sets_take_each_scenario_once_and_keep_extensions_apart() -> None:
    suites = {
        "all": ["a", "b", "auth/x", "auth/dpop", "sep-2640-y", "json-z"],
        "core": ["a", "auth/x"],
        "draft": ["b"],
        "backcompat": [],
        "extensions": ["auth/dpop"],
    }
    sets = run.client_sets(suites)
    assert sets == {
        "core": ["a", "auth/x"],
        "2026-07-28": ["b", "json-z"],
        "backcompat": [],
        "extensions": ["auth/dpop", "sep-2640-y"],
    }
