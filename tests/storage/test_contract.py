"""The SecretVault contract, run against every backend (see the ``vault`` fixture)."""

from __future__ import annotations

import asyncio

import pytest

from mcp_auth_desktop.storage import SecretVault

TOKENS = {
    "access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
    "refresh_token": "rt-1",
    "expires_at": 1700000000.5,
    "scope": ["read", "write"],
    "resource": None,
}


async def test_put_get_roundtrip_and_missing(vault: SecretVault) -> None:
    assert await vault.get("tokens/a") is None
    await vault.put("tokens/a", TOKENS)
    assert await vault.get("tokens/a") == TOKENS
    await vault.put("tokens/a", {**TOKENS, "refresh_token": "rt-2"})
    got = await vault.get("tokens/a")
    assert got is not None and got["refresh_token"] == "rt-2"


async def test_values_are_copied_in_and_out(vault: SecretVault) -> None:
    value = {"list": [1, 2], "nested": {"k": "v"}}
    await vault.put("x", value)
    value["list"].append(3)
    got = await vault.get("x")
    assert got == {"list": [1, 2], "nested": {"k": "v"}}
    assert got is not None
    got["nested"]["k"] = "changed"
    assert await vault.get("x") == {"list": [1, 2], "nested": {"k": "v"}}


async def test_tuples_come_back_as_lists(vault: SecretVault) -> None:
    await vault.put("x", {"scope": ("a", "b")})
    assert await vault.get("x") == {"scope": ["a", "b"]}


async def test_delete_and_names(vault: SecretVault) -> None:
    for n in ("b", "a", "c"):
        await vault.put(n, {"n": n})
    assert await vault.names() == ["a", "b", "c"]
    await vault.delete("b")
    await vault.delete("never-there")
    assert await vault.names() == ["a", "c"]
    assert await vault.get("b") is None


async def test_delete_prefix_counts_and_spares_others(vault: SecretVault) -> None:
    for n in ("server/1/tokens", "server/1/client", "server/10/tokens", "server/2/tokens"):
        await vault.put(n, {"v": n})
    assert await vault.delete_prefix("server/1/") == 2
    assert await vault.names() == ["server/10/tokens", "server/2/tokens"]
    assert await vault.delete_prefix("server/1/") == 0
    with pytest.raises(ValueError):
        await vault.delete_prefix("")


async def test_rejects_non_json_values_without_showing_them(vault: SecretVault) -> None:
    with pytest.raises(TypeError) as info:
        await vault.put("x", {"secret-value-xyz": object()})
    assert "secret-value-xyz" not in str(info.value)
    with pytest.raises(TypeError):
        await vault.put("x", {"n": float("nan")})
    with pytest.raises(TypeError):
        await vault.put("x", ["not", "an", "object"])  # type: ignore[arg-type]
    assert await vault.get("x") is None


@pytest.mark.parametrize("bad", ["", "a\nb", "x" * 257, "tab\there"])
async def test_rejects_bad_names(vault: SecretVault, bad: str) -> None:
    with pytest.raises(ValueError):
        await vault.put(bad, {})


async def test_lock_serialises_tasks(vault: SecretVault) -> None:
    await vault.put("counter", {"n": 0})
    trace: list[str] = []

    async def bump(tag: str) -> None:
        for _ in range(5):
            async with vault.lock("counter"):
                trace.append(f"in {tag}")
                cur = await vault.get("counter")
                assert cur is not None
                await asyncio.sleep(0.001)  # a refresh would await the network here
                await vault.put("counter", {"n": cur["n"] + 1})
                trace.append(f"out {tag}")

    await asyncio.gather(bump("a"), bump("b"), bump("c"))
    assert await vault.get("counter") == {"n": 15}
    # Strict alternation of in/out: no two holders at once.
    for i in range(0, len(trace), 2):
        assert trace[i].startswith("in ") and trace[i + 1] == "out " + trace[i][3:]


async def test_locks_of_different_entries_are_independent(vault: SecretVault) -> None:
    async with vault.lock("a"):
        async with asyncio.timeout(5):
            async with vault.lock("b"):
                await vault.put("b", {"ok": True})
    assert await vault.get("b") == {"ok": True}


async def test_forget_everything_then_reuse(vault: SecretVault) -> None:
    await vault.put("a", {"v": 1})
    await vault.forget_everything()
    assert await vault.names() == []
    assert await vault.get("a") is None
    await vault.put("b", {"v": 2})
    assert await vault.names() == ["b"]


async def test_location_is_described(vault: SecretVault) -> None:
    loc = vault.location
    text = loc.describe()
    if loc.key_source == "memory":  # memory keys exist only in tests
        assert "memory" in text
    else:
        assert loc.vault_path is not None and loc.vault_path in text
        if loc.key_source == "keyring":
            assert loc.backend in text
        elif loc.key_source == "passphrase":
            assert "passphrase" in text
