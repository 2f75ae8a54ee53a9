"""Entry script of the frozen ``mcp-auth`` executable (see the spec)."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--check-bundle"]:
        import mcp_auth_bundle_check

        sys.exit(mcp_auth_bundle_check.main(gui=False))
    from mcp_auth_desktop.cli.entry import main

    sys.exit(main())
