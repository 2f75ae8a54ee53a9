"""``python -m mcp_auth_desktop.cli``: the same as the ``mcp-auth`` command."""

from mcp_auth_desktop.cli.entry import main

raise SystemExit(main())
