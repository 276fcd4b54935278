"""The mail channel tests' fixtures: the IMAP server (tests/channels/imap_server.py)."""

from tests.channels.imap_server import imap_server, trust_imap

__all__ = ["imap_server", "trust_imap"]
