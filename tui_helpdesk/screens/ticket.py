"""One ticket: its header, the conversation (oldest message first) and its history in tabs,
the side panel, and what an agent does to it (reply, note, assign, status, priority,
category, tags, escalate, reopen, merge, link an article, draft an article).

The layout (tabs, side panel, the thread a page at a time) is `screens.ticket_layout`; the
panel and the history load in their own workers (`screens.ticket_panel`). Saving one of the
ticket's attachments to a file (`S`) is `screens.ticket_attachments`.

Live: on `DeskChanged` the ticket is read again (keeping the agent's place in the thread,
following the newest message if the agent was there) and, if someone else changed it, a
toast says what and who (`views.describe_changes`, the panel's last actor). Who else has
the ticket open is the `PresenceBar` under the header: it keeps its own heartbeat, and the
reply/note editor tells it when the agent types (`widgets.presence`).

Customer messages, public replies, internal notes and system messages each have their own
class (`-customer`, `-reply`, `-note`, `-system`) so the stylesheet sets them apart. Loaded
by a thread worker; a ticket that cannot be loaded is a notification and the screen closes.

Actions ask their question in a modal (`ticket_actions`), then write in a thread worker
(group "ticket-action", one at a time) through `services.console_actions`, passing the
version the agent was shown; the screen reloads afterwards. If someone else changed the
ticket meanwhile, the service refuses (`Conflict`): the screen says who changed what,
reloads, and gives a reply or note back to the agent in its editor, so nothing typed is
lost. Bindings that do not apply to the ticket as it is (no reply on a closed ticket) are
hidden; while a write runs they are disabled. The palette offers the same actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.domain import MessageKind, Priority, Status
from tui_helpdesk.screens.context import COUNTDOWN_REFRESH, ConsoleContext, DeskChanged
from tui_helpdesk.screens.ticket_actions import (
    WRITES,
    ComposeScreen,
    Draft,
    EscalateScreen,
    Escalation,
    PickScreen,
    RequesterScreen,
    SubjectScreen,
    TagsScreen,
    TicketCommands,
    applies,
    edit_externally,
)
from tui_helpdesk.screens.ticket_attachments import TicketAttachments
from tui_helpdesk.screens.ticket_links import (
    ArticlePickScreen,
    MergeScreen,
    article_snippet,
    ask_before_the_customer_sees,
    merge_question,
)
from tui_helpdesk.screens.ticket_panel import MessageBox, SidePanel, header_text
from tui_helpdesk.services import console_actions as act
from tui_helpdesk.services import knowledge_views, views
from tui_helpdesk.services.console_actions import (
    ActionResult,
    Choice,
    EscalationChoices,
    MergeParties,
)
from tui_helpdesk.services.errors import Conflict, ServiceError
from tui_helpdesk.services.knowledge_views import ArticleView
from tui_helpdesk.services.ticket_panel import draft_article, merge_into
from tui_helpdesk.services.views import TicketDetail
from tui_helpdesk.widgets.confirm import ConfirmScreen
from tui_helpdesk.widgets.presence import PresenceBar

__all__ = ["MessageBox", "TicketScreen", "header_text"]

ActionCall = Callable[..., ActionResult]  # a console action with everything but `now` bound


class TicketScreen(TicketAttachments):
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {TicketCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="ticket.back"),
        Binding("r", "reply", "Reply", id="ticket.reply"),
        Binding("n", "note", "Note", id="ticket.note"),
        Binding("a", "assign_me", "Take", tooltip="Assign to me", id="ticket.assign_me"),
        Binding("A", "assign", "Assign", show=False, id="ticket.assign"),
        Binding("s", "status", "Status", id="ticket.status"),
        Binding("e", "escalate", "Escalate", id="ticket.escalate"),
        Binding("o", "reopen", "Reopen", id="ticket.reopen"),
        # Only on a ticket with files kept (`check_action`): then in the footer too.
        Binding(
            "S",
            "save_attachment",
            "Save file",
            tooltip="Save an attachment",
            id="ticket.attachment",
        ),
        Binding("i", "toggle_panel", "Info", show=False, tooltip="Side panel", id="ticket.panel"),
        # Less used: in the help panel and the palette, not the footer (80 columns).
        Binding("p", "priority", "Priority", show=False, id="ticket.priority"),
        Binding("c", "category", "Category", show=False, id="ticket.category"),
        Binding("t", "tags", "Tags", show=False, id="ticket.tags"),
        Binding("T", "subject", "Subject", show=False, id="ticket.subject"),
        Binding("R", "requester", "Requester", show=False, id="ticket.requester"),
        Binding("E", "editor", "Reply in $EDITOR", show=False, id="ticket.editor"),
        Binding("h", "history", "History", show=False, id="ticket.history"),
        Binding("m", "merge", "Merge", show=False, id="ticket.merge"),
        Binding("l", "link_article", "Link article", show=False, id="ticket.link"),
        Binding("K", "draft_article", "Draft article", show=False, id="ticket.draft_article"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="ticket.refresh"),
        Binding("j", "scroll('down')", "Down", show=False, id="ticket.down"),
        Binding("k", "scroll('up')", "Up", show=False, id="ticket.up"),
        Binding("g", "scroll('home')", "Top", show=False, id="ticket.top"),
        Binding("G", "scroll('end')", "Newest", show=False, id="ticket.newest"),
    ]

    @dataclass
    class Loaded(Message):
        detail: TicketDetail

    @dataclass
    class Failed(Message):
        error: str

    @dataclass
    class ChoicesLoaded(Message):
        what: str  # "assign", "category" or "escalate"
        choices: tuple[Choice, ...] | EscalationChoices

    @dataclass
    class MergeChecked(Message):
        parties: MergeParties

    @dataclass
    class MergeRefused(Message):
        target: str  # as typed
        error: str

    @dataclass
    class ArticleRead(Message):
        article: ArticleView

    @dataclass
    class ActionDone(Message):
        label: str
        result: ActionResult
        draft: str | None  # the kind of draft it sent ("reply", "note"), if any

    @dataclass
    class ActionFailed(Message):
        label: str
        error: str
        conflict: bool  # someone else changed the ticket first
        draft: str | None

    def __init__(self, context: ConsoleContext, key: str) -> None:
        super().__init__(context, key)
        # Kept until sent, through conflicts and failures, and after the screen is left: once
        # the ticket is loaded, these are the console's drafts of it (`_adopt_drafts`).
        self.drafts: dict[str, Draft] = {}
        self.busy: str | None = None  # the action being written, if any
        self._give_back: tuple[str, str] | None = None  # (draft kind, why) after the reload
        self._live = False  # the load under way was asked for by a desk change

    def on_mount(self) -> None:
        self.query_one("#thread").loading = True
        self._layout(self.size.width)
        self.label_tabs()
        self._load(self.key)
        self.set_interval(COUNTDOWN_REFRESH, self._countdowns_due)

    # --- live refresh ----------------------------------------------------------------

    def _countdowns_due(self) -> None:
        """A minute on: the header's clocks (the panel's, in working time) and its "updated
        … ago" read again from the workers, as a live reload: if nobody changed the ticket,
        the header alone is redrawn."""
        if self.is_current and self.detail is not None and self.busy is None:
            self._live = True
            self._load(self.key)
            self.query_one(SidePanel).load(self.key, clocks_only=True)

    def on_desk_changed(self, _message: DeskChanged) -> None:
        """Someone committed: read the ticket again, unless this screen's own write is in
        flight (its answer reloads anyway) or it is not loaded yet."""
        if self.detail is not None and self.busy is None:
            self._live = True
            self._load(self.key)
        self.query_one(PresenceBar).look()  # who else is there, at once

    def on_side_panel_picked(self, message: SidePanel.Picked) -> None:
        if message.kind == "ticket":
            self.app.push_screen(TicketScreen(self.context, message.ref))
        elif message.kind == "article":
            self._read_article(int(message.ref))

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self._load(self.key)

    # --- loading ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self, key: str) -> None:
        worker = get_current_worker()
        try:
            detail = views.ticket_detail(
                self.context.store,
                self.context.login,
                key,
                now=self.context.now(),
                timezone=self.context.timezone,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.Failed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(detail))

    def on_ticket_screen_loaded(self, message: Loaded) -> None:
        before, live, self._live = self.detail, self._live, False
        thread = self.query_one("#thread", VerticalScroll)
        if live and before is not None:
            aged = {"updated": "", "sla": "", "sla_state": before.sla_state}
            if replace(before, **aged) == replace(message.detail, **aged):
                # A change elsewhere on the desk, or only time passing: the clocks and the
                # age in the header move on; the thread and panel stay as they are.
                if message.detail != before:
                    self.detail = message.detail
                    self.query_one("#ticket-header", Static).update(
                        header_text(message.detail, self.panel)
                    )
                return
            self._change = views.describe_changes(before, message.detail)
        if before is None:
            self._adopt_drafts(message.detail.key)
        # Keep the agent's place, unless they were following the newest message.
        keep = thread.scroll_y if live and thread.scroll_y < thread.max_scroll_y else None
        self.show_ticket(message.detail, keep)
        self.refresh_bindings()
        self._show_status()
        if self._give_back is not None and self.is_current:
            kind, why = self._give_back
            self._give_back = None
            self._open_editor(kind, notice=why)

    def on_ticket_screen_failed(self, message: Failed) -> None:
        self.notify(message.error, title=self.key, severity="error", markup=False)
        if self.detail is None and self.is_current:
            self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(f"{event.worker.error}", title="Unexpected error", severity="error")
        if event.worker.group == "ticket-action" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._idle()

    # --- which actions apply ---------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            # Leaving mid-write would drop its answer (and a draft refused by a conflict).
            return None if self.busy else True
        if action == "save_attachment":
            return self.can_save_attachment()  # a read: open while a write runs
        if action not in WRITES:
            return True
        if self.detail is None:
            return None  # not loaded yet: shown where it would be, not usable
        if self.detail.merged_into:
            return False  # its conversation goes on in the ticket it was merged into
        status = act.status_of(self.detail.status)
        if not applies(action, status, self.detail.assignee == self.context.login):
            return False
        return None if self.busy else True

    # --- actions: questions first ----------------------------------------------------

    def _title(self, what: str) -> Text:
        assert self.detail is not None
        title = Text(f"{what} {self.detail.key} · ")
        title.append(self.detail.subject)  # customer text: appended, never markup
        return title

    def _adopt_drafts(self, key: str) -> None:
        """The drafts the console keeps for this ticket (by its key, however it was opened):
        kept from an earlier visit, and from now on kept there."""
        kept = self.context.drafts.setdefault(key, {})
        kept.update(self.drafts)
        self.drafts = kept

    def action_reply(self) -> None:
        self._open_editor("reply")

    def action_note(self) -> None:
        self._open_editor("note")

    def action_editor(self) -> None:
        draft = self.drafts.get("reply", Draft(""))
        edited = edit_externally(self.app, draft.text)
        if edited is not None:
            self.drafts["reply"] = Draft(edited, draft.status, send=False)
            self._open_editor("reply")

    def _open_editor(self, kind: str, notice: str | None = None) -> None:
        assert self.detail is not None
        statuses = act.status_choices(act.status_of(self.detail.status)) if kind == "reply" else ()
        self.app.push_screen(
            ComposeScreen(
                kind,
                self._title("Reply to" if kind == "reply" else "Internal note on"),
                self.drafts.get(kind, Draft("")),
                statuses,
                notice,
                self.context,
                on_edit=self.query_one(PresenceBar).typed,
                suggested=self.panel.articles if self.panel is not None else (),
                replying_to=self._answered() if kind == "reply" else None,
            ),
            partial(self._composed, kind),
        )

    def _answered(self) -> Text | None:
        """The customer's newest message on one line ("↩ Anna: the VPN drops…"), or None."""
        assert self.detail is not None
        last = next(
            (m for m in reversed(self.detail.messages) if m.kind is MessageKind.CUSTOMER), None
        )
        if last is None:
            return None
        line = Text(f"↩ {last.author}: ", style="bold", no_wrap=True, overflow="ellipsis")
        line.append(" ".join(last.body.split()))  # customer text: appended, never markup
        return line

    def _composed(self, kind: str, draft: Draft | None) -> None:
        if draft is None:
            self.drafts.pop(kind, None)  # empty, or the agent chose to discard it
            self._show_status()
            return
        self.drafts[kind] = draft
        if not draft.send:
            self._show_status()  # kept for later: the status line says how to go on
            return
        # Written against the conversation shown (its newest event): refused only if the
        # conversation or the status moved since, not for a change of the ticket's fields
        # (`ticket_core.conversation_moved`).
        seen = self.detail.seen_event if self.detail is not None else None
        if kind == "reply":
            self._act(
                "reply", act.reply, draft.text, status=draft.status, seen_event=seen, draft=kind
            )
        else:
            self._act("note", act.add_note, draft.text, seen_event=seen, draft=kind)

    def action_assign_me(self) -> None:
        self._act("assign", act.assign_to_me)

    def action_assign(self) -> None:
        self._load_choices("assign", self.key)

    def action_category(self) -> None:
        self._load_choices("category", self.key)

    def action_escalate(self) -> None:
        self._load_choices("escalate", self.key)

    def action_status(self) -> None:
        assert self.detail is not None
        choices = act.status_choices(act.status_of(self.detail.status))
        self._pick("Status of", choices, self._status_picked)

    def action_priority(self) -> None:
        assert self.detail is not None
        choices = act.priority_choices(Priority(self.detail.priority))
        self._pick("Priority of", choices, self._priority_picked)

    def action_tags(self) -> None:
        assert self.detail is not None
        shown = self.detail.tags
        self.app.push_screen(
            TagsScreen(self._title("Tags of"), shown), partial(self._tags_edited, shown)
        )

    def action_subject(self) -> None:
        assert self.detail is not None
        self.app.push_screen(
            SubjectScreen(self._title("Subject of"), self.detail.subject), self._subject_edited
        )

    def action_requester(self) -> None:
        assert self.detail is not None
        shown = self.detail.requester_email or self.detail.requester_phone
        self.app.push_screen(
            RequesterScreen(self._title("Requester of"), shown), self._requester_given
        )

    def action_reopen(self) -> None:
        self._act("reopen", act.reopen)

    def action_merge(self) -> None:
        self._ask_merge()

    def _ask_merge(self, typed: str = "", error: str | None = None) -> None:
        candidates = self.panel.other_open if self.panel is not None else ()
        self.app.push_screen(
            MergeScreen(self._title("Merge"), candidates, typed, error),
            lambda key: self._check_merge(key) if key else None,
        )

    @work(thread=True, exclusive=True, group="ticket-choices", exit_on_error=False)
    def _check_merge(self, target: str) -> None:
        """Whose ticket the target is: another customer's is asked about first."""
        try:
            parties = act.merge_parties(self.context.store, self.key, target)
        except ServiceError as exc:
            self.post_message(self.MergeRefused(target, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.MergeChecked(parties))

    def on_ticket_screen_merge_refused(self, message: MergeRefused) -> None:
        """A target that is no ticket, or one that cannot take the merge: asked again, with
        what was typed and why."""
        if self.is_current:
            self._ask_merge(message.target, message.error)
        else:
            self.notify(message.error, title=self.key, severity="error", markup=False)

    def on_ticket_screen_merge_checked(self, message: MergeChecked) -> None:
        parties = message.parties
        if not self.is_current:
            return  # the agent moved on
        if parties.same_customer:
            self._act("merge", merge_into, parties.target)
            return
        self.app.push_screen(
            ConfirmScreen(
                merge_question(parties), title="Merge into another customer's ticket", yes="Merge"
            ),
            lambda yes: self._act("merge", merge_into, parties.target) if yes else None,
        )

    def action_draft_article(self) -> None:
        """Asked first: the draft is written at once, and edited with `helpdesk kb edit`."""
        question = Text(
            "Draft an internal knowledge article from this ticket? Its subject becomes the "
            "title, the first customer message the problem and the last reply the solution; "
            "edit it with `helpdesk kb edit`, publish it once it reads well."
        )
        self.app.push_screen(
            ConfirmScreen(question, title="Draft an article", yes="Draft", no="Cancel"),
            lambda yes: self._act("article", draft_article) if yes else None,
        )

    def action_link_article(self) -> None:
        self.app.push_screen(
            ArticlePickScreen(
                self.context,
                self._title("Link an article into the reply to"),
                kind="reply",
                suggested=self.panel.articles if self.panel is not None else (),
            ),
            self._link_article,
        )

    @work(thread=True, exclusive=True, group="ticket-article", exit_on_error=False)
    def _read_article(self, article_id: int) -> None:
        try:
            article = knowledge_views.article_view(
                self.context.store,
                self.context.login,
                article_id,
                now=self.context.now(),
                timezone=self.context.timezone,
            )
        except ServiceError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.ArticleRead(article))

    def on_ticket_screen_article_read(self, message: ArticleRead) -> None:
        if self.is_current and self.check_action("link_article", ()):
            ask_before_the_customer_sees(self.app, message.article, self._link_article)

    def _link_article(self, article: ArticleView | None) -> None:
        """The article into the reply draft, and the reply editor open on it (an internal or
        draft one only after the agent said yes: `ask_before_the_customer_sees`)."""
        if article is None or self.detail is None:
            return
        draft = self.drafts.get("reply", Draft(""))
        text = f"{draft.text.rstrip()}\n\n" if draft.text.strip() else ""
        self.drafts["reply"] = Draft(text + article_snippet(article), draft.status, send=False)
        self._open_editor("reply")

    def _pick(
        self,
        what: str,
        choices: tuple[Choice, ...],
        then: Callable[[Choice], None],
        placeholder: str = "",
    ) -> None:
        self.app.push_screen(
            PickScreen(self._title(what), choices, placeholder),
            lambda choice: then(choice) if choice is not None else None,
        )

    @work(thread=True, exclusive=True, group="ticket-choices", exit_on_error=False)
    def _load_choices(self, what: str, key: str) -> None:
        loaders: dict[str, Callable[[views.Store, str], Any]] = {
            "assign": act.assignee_choices,
            "category": act.category_choices,
            "escalate": act.escalation_choices,
        }
        try:
            choices = loaders[what](self.context.store, key)
        except ServiceError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.ChoicesLoaded(what, choices))

    def on_ticket_screen_choices_loaded(self, message: ChoicesLoaded) -> None:
        if not self.is_current:
            return  # the agent moved on (another question is open)
        if isinstance(message.choices, EscalationChoices):
            if message.choices.next_level is None and not message.choices.groups:
                self.notify("there is no other group to escalate to", severity="warning")
                return
            self.app.push_screen(
                EscalateScreen(self._title("Escalate"), message.choices),
                self._escalate_confirmed,
            )
        elif message.what == "assign":
            self._pick("Assign", message.choices, self._assignee_picked, "part of a name")
        else:
            self._pick("Category of", message.choices, self._category_picked)

    # --- actions: then the write -----------------------------------------------------

    def _assignee_picked(self, choice: Choice) -> None:
        self._act("assign", act.assign, agent=choice.value or None, group=choice.group)

    def _status_picked(self, choice: Choice) -> None:
        self._act("status", act.change_status, Status(choice.value))

    def _priority_picked(self, choice: Choice) -> None:
        self._act("priority", act.change_priority, Priority(choice.value))

    def _category_picked(self, choice: Choice) -> None:
        self._act("category", act.change_category, choice.value or None)

    def _tags_edited(self, shown: tuple[str, ...], wanted: tuple[str, ...] | None) -> None:
        if wanted is not None:
            self._act("tags", act.change_tags, shown=shown, wanted=wanted)

    def _requester_given(self, given: tuple[str, str | None] | None) -> None:
        if given is not None:
            self._act("requester", act.change_requester, *given)

    def _subject_edited(self, subject: str | None) -> None:
        if subject is not None:
            self._act("subject", act.change_subject, subject)

    def _escalate_confirmed(self, escalation: Escalation | None) -> None:
        if escalation is not None:
            self._act(
                "escalate", act.escalate, reason=escalation.reason, to_group=escalation.to_group
            )

    def _act(
        self, label: str, action: ActionCall, *args: Any, draft: str | None = None, **kw: Any
    ) -> None:
        """Run a console action on the version shown, in the write worker."""
        if self.detail is None or self.busy is not None:
            self.notify("wait for the last change to be saved", severity="warning")
            return
        call = partial(
            action,
            self.context.store,
            self.context.login,
            self.detail.key,
            *args,
            expected_version=self.detail.version,
            **kw,
        )
        self.busy = label
        self.refresh_bindings()
        self._show_status()
        self._write(label, call, draft, (self.detail.key, self.detail.seen_event))

    @work(thread=True, exclusive=True, group="ticket-action", exit_on_error=False)
    def _write(
        self, label: str, call: ActionCall, draft: str | None, seen: tuple[str, int]
    ) -> None:
        """Write, then say how it went; a refusal because someone else saved first lists
        every change made since the ticket shown (`seen`: its key and newest event)."""
        # Never dropped when cancelled: what was written must be reported and reloaded.
        now: datetime = self.context.now()
        try:
            result = call(now=now)
        except Conflict as exc:
            try:
                said = act.explain_conflict(
                    self.context.store,
                    self.context.login,
                    exc,
                    # A merge's target is not the ticket shown: its last change is told.
                    seen_event=seen[1] if exc.key == seen[0] else None,
                    now=now,
                    timezone=self.context.timezone,
                )
            except ServiceError:
                said = str(exc)  # the database went away meanwhile: what the refusal said
            self.post_message(self.ActionFailed(label, said, True, draft))
        except ServiceError as exc:
            self.post_message(self.ActionFailed(label, str(exc), False, draft))
        else:
            self.post_message(self.ActionDone(label, result, draft))

    def on_ticket_screen_action_done(self, message: ActionDone) -> None:
        if message.draft is not None:
            self.drafts.pop(message.draft, None)
        self._idle()
        self.notify(
            message.result.summary,
            title=message.result.key,
            severity="information" if message.result.changed else "warning",
            markup=False,
        )
        self._load(self.key)

    def on_ticket_screen_action_failed(self, message: ActionFailed) -> None:
        self._idle()
        error = message.error
        if message.draft is not None:
            # The editor opens again with the full reason above the text; the toast is short.
            self._give_back = (message.draft, f"Not sent: {message.error}")
            why = "the ticket changed meanwhile" if message.conflict else "refused"
            error = f"Your {message.draft} was not sent ({why}); it is back in the editor."
        self.notify(
            error,
            title="Not saved" if message.conflict else f"{message.label}: not done",
            severity="warning" if message.conflict else "error",
            timeout=20 if message.conflict else 12,  # a list of changes takes reading
            markup=False,  # names and values in it are people's text
        )
        self._load(self.key)  # show the ticket as it is now (the conflicting change too)

    def _idle(self) -> None:
        self.busy = None
        self.refresh_bindings()
        self._show_status()

    def _show_status(self) -> None:
        """The line above the footer: what is being saved, else which drafts are kept."""
        line = self.query_one("#ticket-status", Static)
        kept = [k for k in ("reply", "note") if k in self.drafts]
        self.set_class(self.busy is not None, "-busy")
        self.set_class(bool(kept) and self.busy is None, "-draft")
        if self.busy is not None:
            line.update(Text(f"saving {self.busy}…"))
        elif kept:
            keys = " / ".join(f"{'r' if k == 'reply' else 'n'} {k}" for k in kept)
            line.update(Text(f"draft kept: {keys} to continue"))
        else:
            line.update("")
