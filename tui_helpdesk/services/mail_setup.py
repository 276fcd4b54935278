"""How a session factory carries the desk's mail settings (`[mail]`: address, templates) to
the services that queue mail (`services.outgoing.mail_context`), without loading them, or
the mail services, until a session writes a mail: most commands never do."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_helpdesk.services.outgoing import MailContext

MAIL_KEY = "helpdesk.mail"


def mail_info(address: str | None, templates: Path | None = None) -> dict[str, object]:
    """The `info` for a session factory whose every session writes mail as this desk
    (`sessionmaker(..., info=mail_info(mail.address, mail.templates))`). The templates are
    loaded, and checked, once: by the first session that writes a mail."""

    @cache
    def load() -> MailContext:
        from tui_helpdesk.services.outgoing import mail_context_for

        return mail_context_for(address, templates)

    return {MAIL_KEY: load}
