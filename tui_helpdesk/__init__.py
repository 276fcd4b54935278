"""tui-helpdesk: a keyboard-first help desk for the terminal."""

__version__ = "0.1.0"
