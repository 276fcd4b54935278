"""`python -m tui_helpdesk`: the same as the `helpdesk` command."""

from tui_helpdesk.cli import main

raise SystemExit(main())
