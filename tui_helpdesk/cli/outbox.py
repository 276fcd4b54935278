"""`helpdesk mail send|outbox`: delivering the outbox over SMTP (commands on `cli.mail.app`)."""

from __future__ import annotations
