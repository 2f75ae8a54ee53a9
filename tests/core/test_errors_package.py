"""The error tree is one package: every class of every family module is importable from ``core.errors``.

Callers import ``from mcp_auth_desktop.core.errors import X`` (or ``errors.X``);
a class added to a family module but not re-exported would be reachable only
by a path the rest of the code never uses, so this test lists them all.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from mcp_auth_desktop.core import errors

FAMILIES = sorted(m.name for m in pkgutil.iter_modules(errors.__path__))


def _defined_here(module_name: str) -> dict[str, object]:
    module = importlib.import_module(f"mcp_auth_desktop.core.errors.{module_name}")
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module.__name__
    }


def test_the_families_are_the_documented_ones() -> None:
    assert FAMILIES == ["base", "manager", "mcp", "network", "oauth", "storage"]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_public_name_of_a_family_is_reexported_and_listed(family: str) -> None:
    defined = _defined_here(family)
    assert defined, family
    module = importlib.import_module(f"mcp_auth_desktop.core.errors.{family}")
    assert sorted(module.__all__) == sorted(defined)
    for name, obj in defined.items():
        assert getattr(errors, name) is obj, name
        assert name in errors.__all__, name


def test_every_exported_name_resolves_and_every_class_is_in_the_one_tree() -> None:
    assert len(errors.__all__) == len(set(errors.__all__))
    for name in errors.__all__:
        obj = getattr(errors, name)
        if inspect.isclass(obj):
            assert issubclass(obj, errors.McpAuthError), name
    # Everything defined in the family modules, plus the re-exported text cleaner.
    defined = {n for f in FAMILIES for n in _defined_here(f)}
    assert set(errors.__all__) == defined | {"sanitize_server_text"}


def test_a_class_keeps_its_place_in_the_tree_across_families() -> None:
    # Parents and children sit in different modules; the hierarchy is what callers catch on.
    assert issubclass(errors.CompressionBombError, errors.ProtocolError)
    assert issubclass(errors.DiscoveryError, errors.ProtocolError)
    assert issubclass(errors.InputRequiredError, errors.ProtocolError)
    assert issubclass(errors.StaleClientError, errors.SignInRequiredError)
    assert issubclass(errors.WeakPassphraseError, errors.VaultLockedError)
    assert errors.NetworkError.transient and not errors.TlsError.transient
    err = errors.oauth_error_from_response("invalid_client", "gone", status=503)
    assert type(err) is errors.TemporarilyUnavailableError and err.transient
    final = errors.oauth_error_from_response("invalid_grant", status=503)
    assert type(final) is errors.InvalidGrantError and not final.transient
