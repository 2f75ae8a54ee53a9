"""Keyring backends that misbehave on purpose, and a counting one."""

from __future__ import annotations

import threading
from collections import Counter

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class DictKeyring(KeyringBackend):
    """A working keyring in a dict that counts every call."""

    # Below zero: keyring registers every subclass, and the auto-detected (chained)
    # backend must never pick up a fake.
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.calls: Counter[str] = Counter()

    def get_password(self, service: str, username: str) -> str | None:
        self.calls["get"] += 1
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls["set"] += 1
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls["delete"] += 1
        if (service, username) not in self.items:
            raise PasswordDeleteError("not found")
        del self.items[(service, username)]


class HangingKeyring(DictKeyring):
    """Every call blocks until ``release`` is set (a Secret Service stuck on D-Bus)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)
        super().set_password(service, username, password)


class DroppingKeyring(DictKeyring):
    """Accepts writes and silently keeps nothing (like keyring.backends.null)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls["set"] += 1


class LockedKeyring(DictKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("collection is locked")


class LeakyErrorKeyring(DictKeyring):
    """Fails with the stored value in its exception message (a badly written backend)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempted: list[str] = []

    def set_password(self, service: str, username: str, password: str) -> None:
        self.attempted.append(password)
        raise RuntimeError(f"could not store {password!r} for {username}")


class CountingProxy:
    """Wraps a real backend and counts the calls made through it."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def get_password(self, service: str, username: str) -> str | None:
        self.calls["get"] += 1
        return self.inner.get_password(service, username)  # type: ignore[attr-defined, no-any-return]

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls["set"] += 1
        self.inner.set_password(service, username, password)  # type: ignore[attr-defined]

    def delete_password(self, service: str, username: str) -> None:
        self.calls["delete"] += 1
        self.inner.delete_password(service, username)  # type: ignore[attr-defined]
