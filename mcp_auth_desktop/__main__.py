from mcp_auth_desktop.gui.entry import main

raise SystemExit(main())
