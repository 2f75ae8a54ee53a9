"""The desktop app's own settings, kept under ``"gui"`` in the settings document.

They are not secret, so they live in the same human-readable settings file
as the servers (through :class:`SettingsStore`, which locks and writes
atomically). Reading tolerates missing or odd values: a hand-edited file
falls back to the defaults rather than stopping the app.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from mcp_auth_desktop.core.ports import JsonObject, SettingsStore

__all__ = ["GuiSettings", "Preferences"]

KEY = "gui"


@dataclass(frozen=True)
class GuiSettings:
    #: Seconds before a copied token is cleared from the clipboard (0 = never).
    clipboard_clear_seconds: float = 30.0
    #: A copied token is refreshed first when it would expire within this many seconds.
    refresh_margin_seconds: float = 120.0
    start_at_login: bool = False
    notifications: bool = True

    @classmethod
    def from_dict(cls, data: object) -> GuiSettings:
        d = data if isinstance(data, dict) else {}
        base = cls()

        def num(key: str, default: float, lo: float, hi: float) -> float:
            v = d.get(key, default)
            if isinstance(v, bool) or not isinstance(v, int | float):
                return default
            return float(min(max(v, lo), hi))

        def flag(key: str, default: bool) -> bool:
            v = d.get(key, default)
            return v if isinstance(v, bool) else default

        return cls(
            clipboard_clear_seconds=num("clipboard_clear_seconds", base.clipboard_clear_seconds, 0, 3600),
            refresh_margin_seconds=num("refresh_margin_seconds", base.refresh_margin_seconds, 0, 86400),
            start_at_login=flag("start_at_login", base.start_at_login),
            notifications=flag("notifications", base.notifications),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Preferences(QObject):
    """Current GUI settings plus their persistence.

    Signals:
        changed(GuiSettings): new settings were applied.
    """

    changed = Signal(object)

    def __init__(self, store: SettingsStore | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._current = GuiSettings()

    @property
    def current(self) -> GuiSettings:
        return self._current

    async def load(self) -> GuiSettings:
        if self._store is not None:
            self.load_from(await self._store.load())
        return self._current

    def load_from(self, document: JsonObject) -> GuiSettings:
        """Apply the GUI settings of a settings document already read (the first frame's)."""
        self._current = GuiSettings.from_dict(document.get(KEY))
        self.changed.emit(self._current)
        return self._current

    async def save(self, settings: GuiSettings) -> GuiSettings:
        settings = GuiSettings.from_dict(settings.to_dict())
        if self._store is not None:
            def change(doc: JsonObject) -> None:
                doc[KEY] = settings.to_dict()

            await self._store.update(change)
        self._current = settings
        self.changed.emit(settings)
        return settings

    def set_local(self, **changes: Any) -> None:
        """Apply without saving (tests, command-line overrides)."""
        self._current = replace(self._current, **changes)
        self.changed.emit(self._current)
