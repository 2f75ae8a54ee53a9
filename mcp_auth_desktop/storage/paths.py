"""Where the app keeps its files, and the checks that keep them private.

``MCP_AUTH_DESKTOP_HOME`` puts every file in one folder (tests, portable
use); otherwise settings go to the platform's config folder and the vault to
its data folder (``platformdirs``). Each folder we own is 0700 and each file
0600 whatever the umask; a symlink, a folder owned by someone else or a
world-writable parent without the sticky bit is refused, because any of them
lets another local user swap or read our files. On Windows the folder's ACL
is reduced to the current user.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

from mcp_auth_desktop.core.childenv import child_environment
from mcp_auth_desktop.core.errors import StorageWriteError, UnsafePathError

__all__ = [
    "APP_NAME",
    "HOME_ENV",
    "AppPaths",
    "app_paths",
    "ensure_private_dir",
    "check_private_file",
]

log = logging.getLogger(__name__)

APP_NAME = "mcp-auth-desktop"
HOME_ENV = "MCP_AUTH_DESKTOP_HOME"

VAULT_FILE = "vault.bin"
SETTINGS_FILE = "settings.json"

_IS_POSIX = os.name == "posix"


class _Under:
    """A file or folder of :class:`AppPaths`: ``name`` inside one of its two folders."""

    def __init__(self, folder: Literal["config_dir", "data_dir"], name: str) -> None:
        self._folder = folder
        self._name = name

    @overload
    def __get__(self, paths: None, owner: type[AppPaths]) -> _Under: ...
    @overload
    def __get__(self, paths: AppPaths, owner: type[AppPaths]) -> Path: ...
    def __get__(self, paths: AppPaths | None, owner: type[AppPaths]) -> Path | _Under:
        if paths is None:
            return self
        folder: Path = getattr(paths, self._folder)
        return folder / self._name


@dataclass(frozen=True)
class AppPaths:
    """The app's folders and files. Nothing is created until :meth:`ensure`."""

    config_dir: Path
    data_dir: Path

    # Where each file lives (not dataclass fields: they follow the two folders).
    settings_file = _Under("config_dir", SETTINGS_FILE)
    settings_lock = _Under("config_dir", "settings.lock")
    vault_file = _Under("data_dir", VAULT_FILE)
    vault_lock = _Under("data_dir", "vault.lock")
    audit_file = _Under("data_dir", "audit.log")
    entry_lock_dir = _Under("data_dir", "locks")

    def ensure(self) -> None:
        """Create the folders (0700) and check that they are safe to use."""
        for d in (self.config_dir, self.data_dir, self.entry_lock_dir):
            ensure_private_dir(d)


def app_paths(home: Path | None = None) -> AppPaths:
    """``home`` if given, else ``$MCP_AUTH_DESKTOP_HOME``, else the platform folders."""
    if home is None:
        env = os.environ.get(HOME_ENV)
        if env:
            home = Path(env)
    if home is not None:
        home = Path(os.path.abspath(os.path.expanduser(home)))
        return AppPaths(config_dir=home, data_dir=home)
    # Here, not at the top (start-up cost: platformdirs loads tempfile, shutil and random):
    # a home folder set in the environment never needs it.
    from platformdirs import user_config_path, user_data_path

    return AppPaths(
        config_dir=user_config_path(APP_NAME, appauthor=False, roaming=True),
        data_dir=user_data_path(APP_NAME, appauthor=False, roaming=False),
    )


def _check_parent(path: Path) -> None:
    if not _IS_POSIX:
        return
    parent = path.parent
    try:
        st = os.stat(parent)
    except OSError as exc:
        raise StorageWriteError(f"Cannot inspect folder {parent}: {exc.strerror}") from None
    # A world-writable parent lets anyone rename our folder away and plant
    # their own, unless the sticky bit (as on /tmp) forbids that.
    if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
        raise UnsafePathError(
            f"Refusing to keep secrets under {parent}: that folder is writable by every user. "
            f"Choose another location (set {HOME_ENV}) or run: chmod o-w '{parent}'"
        )


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) and make sure it is ours alone.

    Raises :class:`UnsafePathError` for a symlink, a non-folder, a folder
    owned by another user, or a world-writable parent.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        if path.parent.exists():
            _check_parent(path)
        # Missing ancestors are made 0700 too: makedirs would give them the
        # umask's defaults, which under umask 000 means world-writable.
        missing = [path]
        while not missing[-1].parent.exists() and missing[-1].parent != missing[-1]:
            missing.append(missing[-1].parent)
        try:
            for d in reversed(missing):
                try:
                    os.mkdir(d, 0o700)
                except FileExistsError:
                    pass
        except OSError as exc:
            raise StorageWriteError(f"Cannot create folder {path}: {exc.strerror}") from None
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise StorageWriteError(f"Cannot inspect folder {path}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(
            f"Refusing to use {path}: it is a symbolic link. Replace it with a real folder."
        )
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(f"Refusing to use {path}: it is not a folder.")
    _check_parent(path)
    if _IS_POSIX:
        _ours_alone(path, st, 0o700)
    else:
        _restrict_windows_acl(path)


def check_private_file(path: Path) -> bool:
    """Check an existing file before we read or replace it.

    Returns False when the file does not exist. A symlink, a non-regular file
    or another user's file raises :class:`UnsafePathError`; a file of ours
    with group or other bits is re-chmodded to 0600.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StorageWriteError(f"Cannot inspect {path}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(
            f"Refusing to use {path}: it is a symbolic link. Remove it; the app recreates the file."
        )
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError(f"Refusing to use {path}: it is not a regular file.")
    if _IS_POSIX:
        _ours_alone(path, st, 0o600)
    return True


def _ours_alone(path: Path, st: os.stat_result, mode: int) -> None:
    """Refuse another user's ``path``; ours but open to others (made by an older tool or
    by hand) is tightened to ``mode``. POSIX only."""
    if st.st_uid != os.getuid():
        raise UnsafePathError(
            f"Refusing to use {path}: it belongs to another user (uid {st.st_uid})."
        )
    if st.st_mode & 0o077:
        os.chmod(path, mode)


def _restrict_windows_acl(path: Path) -> None:
    """Give the current user, and only them, full control of ``path`` (Windows)."""
    if os.name != "nt":
        return
    user = os.environ.get("USERNAME")
    if not user:
        return
    import subprocess  # here, not at the top: Windows only, and costly to import at start

    domain = os.environ.get("USERDOMAIN")
    principal = f"{domain}\\{user}" if domain else user
    try:
        icacls = os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32", "icacls.exe")
        subprocess.run(  # noqa: S603 - fixed program, no shell, arguments are ours
            [icacls, str(path), "/inheritance:r", "/grant:r", f"{principal}:(OI)(CI)F"],
            check=True,
            capture_output=True,
            timeout=15,
            env=child_environment(),  # never our secrets (issue 15 #9)
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise UnsafePathError(
            f"Could not restrict access to {path} to your user account ({type(exc).__name__})."
        ) from None
