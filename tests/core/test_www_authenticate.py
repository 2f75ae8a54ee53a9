"""WWW-Authenticate parsing (RFC 9110 §11.6.1) and the Bearer view (RFC 6750 §3, RFC 9728 §5.1)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core.www_authenticate import (
    MAX_SCOPE_CHARS,
    BearerChallenge,
    Challenge,
    bearer_challenge,
    describe_challenge,
    parse_scope,
    parse_www_authenticate,
)

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
TOKEN68_FIRST = "-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_single_bearer_challenge_with_quoted_params() -> None:
    [c] = parse_www_authenticate(
        'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", '
        'scope="files:read"'
    )
    assert c == Challenge(
        scheme="bearer",
        params={
            "resource_metadata": "https://mcp.example.com/.well-known/oauth-protected-resource",
            "scope": "files:read",
        },
    )


def test_several_challenges_in_one_value() -> None:
    got = parse_www_authenticate(
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", '
        "Token abc-def.ghi==, Bearer error=invalid_token"
    )
    assert [c.scheme for c in got] == ["newauth", "basic", "token", "bearer"]
    assert got[0].params == {"realm": "apps", "type": "1", "title": 'Login to "apps"'}
    assert got[1].params == {"realm": "simple"}
    assert got[2].token68 == "abc-def.ghi==" and got[2].params == {}
    assert got[3].params == {"error": "invalid_token"}


def test_challenges_across_several_header_values() -> None:
    got = parse_www_authenticate(['Basic realm="a"', 'Bearer scope="x y"'])
    assert [(c.scheme, c.params) for c in got] == [
        ("basic", {"realm": "a"}),
        ("bearer", {"scope": "x y"}),
    ]


def test_scheme_and_param_names_are_case_insensitive() -> None:
    [c] = parse_www_authenticate('BEARER Error="insufficient_scope", SCOPE="A b"')
    assert c.scheme == "bearer"
    # Names are lowercased, values are kept byte for byte.
    assert c.params == {"error": "insufficient_scope", "scope": "A b"}


def test_bws_around_equals_and_extra_commas() -> None:
    [c] = parse_www_authenticate(' ,, Bearer  realm = "r" ,,  error =x , ')
    assert c.params == {"realm": "r", "error": "x"}


def test_escapes_in_quoted_strings() -> None:
    [c] = parse_www_authenticate(r'Bearer error_description="a \"quoted\" \\ back, comma"')
    assert c.params["error_description"] == 'a "quoted" \\ back, comma'


def test_first_occurrence_of_a_param_wins() -> None:
    [c] = parse_www_authenticate('Bearer scope="first", scope="second"')
    assert c.params == {"scope": "first"}


def test_scheme_without_params() -> None:
    got = parse_www_authenticate("Bearer, Negotiate")
    assert got == [Challenge("bearer", {}), Challenge("negotiate", {})]


@pytest.mark.parametrize(
    "junk",
    [
        "",
        ",,,",
        '"',
        "=",
        "Bearer realm=\"unterminated",
        "@@@ ###",
        "Bearer =x",
        'realm="no scheme"',
        "Bearer realm=\"ctl\x01char\"",
        "\x00\xff\u2028",
    ],
)
def test_junk_never_raises(junk: str) -> None:
    parse_www_authenticate(junk)
    bearer_challenge(junk)


def test_malformed_param_is_skipped_and_the_rest_kept() -> None:
    got = parse_www_authenticate('Bearer realm="x\x01y", error="invalid_token", Basic realm=a')
    assert got[0].params == {"error": "invalid_token"}
    assert got[1] == Challenge("basic", {"realm": "a"})


def test_malformed_scheme_is_skipped() -> None:
    got = parse_www_authenticate('B@d realm="x", Bearer scope="s"')
    assert [c.scheme for c in got] == ["bearer"]
    assert got[0].params == {"scope": "s"}


def test_unterminated_quote_does_not_swallow_the_next_header_value() -> None:
    got = parse_www_authenticate(['Basic realm="open', "Bearer error=invalid_token"])
    assert got[-1] == Challenge("bearer", {"error": "invalid_token"})


def test_long_input_is_bounded() -> None:
    huge = "Bearer " + ", ".join(f"p{i}=v" for i in range(50_000))
    got = parse_www_authenticate(huge)
    assert got[0].scheme == "bearer"
    assert len(got[0].params) <= 64
    many = ", ".join(["Basic realm=x"] * 10_000)
    assert len(parse_www_authenticate(many)) <= 32


def test_bearer_challenge_extracts_the_four_fields() -> None:
    b = bearer_challenge(
        'Basic realm="x", Bearer error="insufficient_scope", scope="files:read files:write", '
        'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", '
        'error_description="Need write access"'
    )
    assert b == BearerChallenge(
        resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        scope=("files:read", "files:write"),
        error="insufficient_scope",
        error_description="Need write access",
    )


def test_bearer_challenge_none_without_bearer() -> None:
    assert bearer_challenge('Basic realm="x"') is None
    assert bearer_challenge([]) is None


def test_bearer_error_description_is_sanitised() -> None:
    # A quoted-pair may carry a tab; obs-text like U+2028 is allowed by the grammar.
    b = bearer_challenge('Bearer error_description="line1\u2028[auth] forged\\\tx"')
    assert b is not None and b.error_description is not None
    assert "\u2028" not in b.error_description and "\t" not in b.error_description
    assert "forged" in b.error_description


@pytest.mark.parametrize(
    "scope",
    ['a"b', "a\\b", "caf\u00e9", "x" * (MAX_SCOPE_CHARS + 1), "", "   "],
)
def test_invalid_scope_values_give_no_scope(scope: str) -> None:
    assert parse_scope(scope) is None


def test_scope_tokens_split_on_spaces_and_deduplicated() -> None:
    assert parse_scope("  a  b a   c ") == ("a", "b", "c")
    assert parse_scope("x" * MAX_SCOPE_CHARS) == ("x" * MAX_SCOPE_CHARS,)


def test_bearer_with_an_escaped_quote_in_scope_has_no_scope() -> None:
    b = bearer_challenge(r'Bearer scope="a \" b", error="insufficient_scope"')
    assert b is not None and b.scope is None and b.error == "insufficient_scope"


# --- property tests ----------------------------------------------------------------

tokens = st.text(alphabet=TCHARS, min_size=1, max_size=12)
param_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f"),
    max_size=20,
)
token68s = st.builds(
    lambda body, pad: body + "=" * pad,
    st.text(alphabet=TOKEN68_FIRST, min_size=1, max_size=16),
    st.integers(0, 2),
)


@st.composite
def challenges(draw: st.DrawFn) -> Challenge:
    scheme = draw(tokens).lower()
    if draw(st.booleans()):
        return Challenge(scheme, {}, draw(token68s))
    names = draw(st.lists(tokens.map(str.lower), max_size=4, unique=True))
    return Challenge(scheme, {n: draw(param_values) for n in names})


def _quote(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render(c: Challenge, case: st.DataObject) -> str:
    scheme = case.draw(st.sampled_from([c.scheme, c.scheme.upper()]))
    if c.token68 is not None:
        return f"{scheme} {c.token68}"
    parts = []
    for k, v in c.params.items():
        eq = case.draw(st.sampled_from(["=", " = ", "\t=", "= "]))
        if v and all(ch in TCHARS for ch in v) and case.draw(st.booleans()):
            parts.append(f"{k}{eq}{v}")
        else:
            parts.append(f"{k}{eq}{_quote(v)}")
    return f"{scheme} {', '.join(parts)}" if parts else scheme


@given(st.lists(challenges(), min_size=1, max_size=3), st.booleans(), st.data())
@settings(max_examples=200)
def test_round_trip_of_generated_challenges(
    cs: list[Challenge], split: bool, data: st.DataObject
) -> None:
    rendered = [_render(c, data) for c in cs]
    header: str | list[str] = rendered if split else ", ".join(rendered)
    assert parse_www_authenticate(header) == cs


@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=100), max_size=4)))
@example('Bearer a="\\')
@example("Bearer a=\"x\", b=\"\\\"")
@example("x y=,z")
@settings(max_examples=300)
def test_never_raises_on_arbitrary_text(value: str | list[str]) -> None:
    got = parse_www_authenticate(value)
    for c in got:
        assert c.scheme and c.scheme == c.scheme.lower()
        assert all(k == k.lower() for k in c.params)
    b = bearer_challenge(value)
    if b is not None and b.scope is not None:
        assert all(t and " " not in t for t in b.scope)


def test_a_long_challenge_is_capped_in_the_message() -> None:
    """describe_challenge: what the MCP client's refusals quote (core/mcp/transport.py, answers.py)."""
    ch = bearer_challenge([f'Bearer error="invalid_token", error_description="{"x" * 290}"'])
    text = describe_challenge(ch)
    assert len(text) == 300 and text.endswith("…") and text.startswith("invalid_token: x")
    assert describe_challenge(None) == ""
