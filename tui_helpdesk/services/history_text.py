"""The audit trail in words: one event as a line for people, as `helpdesk ticket show` and
the console's history tab show it (one wording for both)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui_helpdesk.domain import EventKind
from tui_helpdesk.text import span

if TYPE_CHECKING:
    from tui_helpdesk.store.models import TicketEvent

Local = Callable[[datetime], str]  # formats a time for the reader


def _sla_change(field: str | None, new: str | None, detail: dict[str, Any], local: Local) -> str:
    """An SLA ledger step in words: "first response: pause (status pending), 1h50m left"."""
    action = str(detail.get("action") or new or "")
    if field == "policy":
        policy = str(detail.get("policy") or "-")
        reason = str(detail.get("reason") or action)
        return f"SLA policy {policy}: {reason.removeprefix(f'{policy}: ')}"
    parts = [action]
    if detail.get("reason"):
        parts[0] += f" ({detail['reason']})"
    due = detail.get("due_at")
    if due and action != "met":
        with suppress(ValueError):
            parts.append(f"due {local(datetime.fromisoformat(str(due)))}")
    left = detail.get("remaining_s")
    if isinstance(left, int) and action in ("pause", "stop", "retarget", "met"):
        length = span(timedelta(seconds=left))
        parts.append(f"{length} left" if left > 0 else f"overdue by {length}")
    return f"{(field or '').replace('_', ' ')}: " + ", ".join(parts)


def describe_event(event: TicketEvent, local: Local = str) -> str:
    """One audit event in words, as `helpdesk ticket show` words it; `local` formats a
    time. Plain text, not yet cleaned (callers clean it: values may be customer text)."""
    detail = event.detail or {}
    kind = event.kind
    if kind is EventKind.SLA:
        return _sla_change(event.field, event.new, detail, local)
    if kind is EventKind.ESCALATED:
        if event.field == "rule":
            return f"rule {event.new}: {detail.get('reason', '')}"
        if event.field == "failed":
            return f"rule {event.new} could not be applied: {detail.get('error', '')}"
        if event.field == "notify":
            return f"notified {event.new}"
        if event.field == "manual":
            return f"{event.new}: {detail.get('reason', '')}"
    if kind is EventKind.FIRST_RESPONSE:
        return "first response to the customer"  # when: the event's own time
    if kind is EventKind.ARTICLE:
        return f"knowledge article {event.new} drafted from this ticket"
    if kind is EventKind.ROUTED:
        decided = [
            f"{key} {' '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in detail.items()
            if value and key != "skipped"
        ]
        skipped = f" (skipped: {detail['skipped']})" if detail.get("skipped") else ""
        return "classified: " + ", ".join(decided) + skipped
    if event.field:
        text = f"{event.field}: {event.old or '-'} -> {event.new or '-'}"
        if detail.get("reason"):
            text += f" ({detail['reason']})"
        return text
    return event.new or ""
