"""Entry script of the frozen ``mcp-auth-desktop`` executable (see the spec).

Frozen, ``sys.executable`` is this program, so commands the app builds as
``[sys.executable, "-m", <module>, ...]`` (the ``--demo`` mock server child,
an autostart entry written from source) arrive here; the few modules the app
runs that way are run in-process, as ``python -m`` would.
"""

import runpy
import sys

RUNNABLE_MODULES = ("mock_server", "mcp_auth_desktop")


def _reattach_stdio() -> None:
    # A windowed (no-console) frozen app starts with sys.stdout/stderr = None,
    # even when its parent passed pipes; the demo server reports its URL on stdout.
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is None:
            try:
                stream = open(fd, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
            except OSError:
                continue
            setattr(sys, name, stream)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check-bundle"]:
        import mcp_auth_bundle_check

        sys.exit(mcp_auth_bundle_check.main(gui=True))
    if sys.argv[1:2] == ["-m"] and sys.argv[2:3] and sys.argv[2] in RUNNABLE_MODULES:
        _reattach_stdio()
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        sys.exit(0)
    from mcp_auth_desktop.gui.entry import main

    sys.exit(main())
