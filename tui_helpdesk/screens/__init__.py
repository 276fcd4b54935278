"""The console's screens, one module each: the queue (home) and a ticket.

Screens never open a session or import the store: their thread workers call
`tui_helpdesk.services.views`, and results come back as messages.
"""
