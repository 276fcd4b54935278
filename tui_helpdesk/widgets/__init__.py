"""Reusable console widgets (the ticket table, later the SLA badge and thread view)."""
