from mcp_auth_desktop.gui.app import main

raise SystemExit(main())
