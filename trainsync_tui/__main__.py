from trainsync_tui.cli import main

raise SystemExit(main())
