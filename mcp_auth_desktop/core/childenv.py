"""Our secrets never reach a child process's environment (issue 15 #9).

A child inherits the whole environment by default: the browser, a
``BROWSER`` command, ``xdg-open`` started by :mod:`webbrowser` or Qt, the
demo server. Any of them (or anything they start in turn, or anyone who may
read ``/proc/<pid>/environ`` of a long-lived browser) would see the vault
passphrase. Two layers keep it from them:

* :func:`withhold_secrets_from_children`, called first thing by the CLI and
  the app, moves the secret variables out of ``os.environ`` into this
  process's memory, so even children started by libraries that cannot be
  given an environment (``webbrowser``, ``QDesktopServices``) inherit none;
  :func:`secret_env` is how our own code reads them afterwards;
* every child we start ourselves gets :func:`child_environment` explicitly,
  which also holds when this module is used as a library without the first
  step.

The list of secret-bearing variables is :data:`SECRET_ENV_VARS`, here and
nowhere else.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

__all__ = [
    "SECRET_ENV_VARS",
    "child_environment",
    "is_secret_env",
    "secret_env",
    "withhold_secrets_from_children",
]

#: Every environment variable that carries one of our secrets.
SECRET_ENV_VARS: frozenset[str] = frozenset(
    {
        "MCP_AUTH_DESKTOP_PASSPHRASE",  # unlocks the vault (storage)
        "MCP_AUTH_MOCK_CONTROL_TOKEN",  # the mock server's control API (demo, tests)
    }
)

_withheld: dict[str, str] = {}
_lock = threading.Lock()


def is_secret_env(name: str) -> bool:
    """Whether ``name`` is one of our secret variables (case-insensitive: Windows)."""
    return name.upper() in SECRET_ENV_VARS


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) without our secret variables."""
    source = os.environ if base is None else base
    return {k: v for k, v in source.items() if not is_secret_env(k)}


def withhold_secrets_from_children() -> None:
    """Move our secret variables out of ``os.environ`` (idempotent); see :func:`secret_env`."""
    with _lock:
        for name in list(os.environ):
            if is_secret_env(name):
                _withheld[name.upper()] = os.environ.pop(name)


def secret_env(name: str) -> str | None:
    """A secret variable's value: from the environment, else as withheld at start-up."""
    value = os.environ.get(name)
    if value is not None:
        return value
    with _lock:
        return _withheld.get(name.upper())
