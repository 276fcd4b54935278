"""A ticket's attachment written to a file, for the console: its content read through
`tickets.ticket_attachment` (as `helpdesk ticket attachment` reads it) in a read-only unit
of work of its own, then written where the agent said, never over an existing file unless
asked to.

What the conversation shows of attachments (names, types, sizes) comes with the thread
(`views.ticket_detail`); the content is read here only, to be saved. Called by
`tui_helpdesk.screens.ticket_attachments` from a thread worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui_helpdesk.services import tickets
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.views import Store, _reading
from tui_helpdesk.text import safe_file_name

__all__ = ["FileExists", "Saved", "default_path", "save_attachment"]


class FileExists(ServiceError):
    """The file is there already: nothing was written (ask, then `overwrite=True`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists")
        self.path = path


@dataclass(frozen=True)
class Saved:
    path: Path
    size: int  # bytes written


def default_path(filename: str, attachment_id: int, directory: Path) -> Path:
    """Where an attachment goes unless the agent says otherwise: `directory`, under the
    attachment's own name made safe (it cannot name a file anywhere else)."""
    return directory / safe_file_name(filename, attachment_id)


def save_attachment(
    store: Store, ref: str, attachment_id: int, path: Path, *, overwrite: bool = False
) -> Saved:
    """Write attachment `attachment_id` of ticket `ref` to `path` (`~` expanded, relative to
    the working directory; a directory gets the attachment's own name made safe). Raises
    `FileExists` when the file is there and not `overwrite`, `NotFound` for an attachment
    not on the ticket, and a `ServiceError` when only its name was kept or the file cannot
    be written."""
    with _reading(store) as session:
        found = tickets.ticket_attachment(session, ref, attachment_id)
        content, name = found.content, found.filename
    assert content is not None  # `ticket_attachment` refuses one whose content was not kept
    target = path.expanduser().absolute()  # the notice says exactly where
    if target.is_dir():
        target = target / safe_file_name(name, attachment_id)
    try:
        with target.open("wb" if overwrite else "xb") as stream:
            stream.write(content)
    except FileExistsError:
        raise FileExists(target) from None
    except OSError as exc:
        raise ServiceError(f"cannot write {target}: {exc.strerror or exc}") from None
    return Saved(target, len(content))
