"""An outbox row as the mail that goes on the wire (`email.message.EmailMessage`).

The row holds what was decided when the mail was queued: recipients, subject (with the ticket
tag), body, our Message-ID, the thread headers (In-Reply-To, References), Auto-Submitted on
automatic mail, attachments. Composing adds what belongs to the moment of sending: From (the
desk's address from the config, unless the row names its own sender) and Date.

Called by `services.delivery` for every row it sends, and by `mail send --dry-run`.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from tui_helpdesk.store.models import Outbox

# Headers composing sets itself; a row's `headers` cannot override them (except From).
OWN_HEADERS = frozenset({"to", "subject", "date", "message-id", "mime-version"})


class ComposeError(ValueError):
    """A row that cannot become a mail (a malformed address or header): sending it again
    would fail the same way, so the sender fails it permanently."""


def compose(row: Outbox, sender: str, now: datetime) -> EmailMessage:
    """The mail of `row`, from `sender` (the row's own From header wins), dated `now`."""
    message = EmailMessage(policy=policy.SMTP)
    headers = dict(row.headers or {})
    try:
        message["From"] = headers.pop("From", None) or sender
        message["To"] = ", ".join(row.to_addrs)
        message["Subject"] = row.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = row.message_id
        for name, value in headers.items():
            if name.lower() in OWN_HEADERS or name.lower() == "from":
                continue
            message[name] = value
        message.set_content(row.body)
        for attachment in row.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
    except (ValueError, TypeError, IndexError) as exc:
        raise ComposeError(f"outbox #{row.id}: cannot compose the mail: {exc}") from None
    return message


def envelope_sender(message: EmailMessage) -> str:
    """The bare address of the From header, for MAIL FROM."""
    addresses: tuple[Address, ...] = getattr(message["From"], "addresses", ())
    return addresses[0].addr_spec if addresses else str(message["From"])
