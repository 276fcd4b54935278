"""A crafted desk history for the report tests, made through the services at chosen `now`s.

Calendar "office": Europe/Rome, Monday to Friday 09:00-17:00, Monday 2026-10-26 a holiday;
DST ends on Sunday 2026-10-25 (CEST, UTC+2, before; CET, UTC+1, after). One SLA policy
("standard", on the office calendar): first response normal 4h / high 2h, resolution 16h.
The report period is 2026-10-19..2026-10-30 (local dates): from 2026-10-18T22:00Z to
2026-10-30T23:00Z; the previous period of the same length is 2026-10-07..2026-10-18. The
report's `now` is Friday 2026-10-30 11:30Z.

  T1 Billing, normal, L1, bob, anna@acme (Acme), tag vpn
     created Thu 22 08:00Z (10:00 CEST); bob replies 09:30Z; resolved Fri 23 14:00Z.
     first response: wall 5400, working 5400 (in time)
     resolution: wall 30h = 108000; working Thu 10-17 + Fri 9-16 = 14h = 50400 (in time)
     answers the survey Sat 24 10:00Z: 4, comment "=cmd|' /C calc'!A0" (a formula), which
     confirms the resolution: T1 closes then
  T2 Billing, normal, L1, bob, zed@globex (no organization)
     created Fri 23 13:00Z (15:00 CEST); bob replies Tue 27 09:00Z (10:00 CET), pending;
     zed writes Wed 28 09:00Z (back to open); bob replies and resolves Wed 28 12:00Z.
     first response: wall 92h = 331200; working Fri 15-17 (2h), Mon holiday, Tue 9-10
     (1h) = 3h = 10800 (in time)
     resolution: wall 119h = 428400; working 2h + 1h + (pending until Wed 10:00 CET) Wed
     10-13 (3h) = 6h = 21600 (in time); two replies: not a first-contact resolution
  T3 Technical > Network, high, L1 unassigned, anna, tags vpn + outage
     created Mon 19 08:00Z (10:00 CEST); escalated by hand to L2 at 11:00Z (3h = 10800);
     bob replies 12:00Z: first response working 4h > 2h, breached; wall 14400
     resolved Tue 20 08:00Z (working 8h, in time); anna writes Wed 21 08:00Z: reopened
     (cycle 1); resolved Thu 22 08:00Z (cycle 1: 8h, in time). Resolution wall 72h =
     259200; its working time is left out (the ledger holds only the last cycle).
     answers the survey Thu 22 09:00Z: 2
  T4 "@SUM(A1) new laptop" (a formula to a spreadsheet), no category, normal, L1, bob,
     anna; created Fri 30 08:00Z (09:00 CET), unanswered:
     first response due 13:00 CET = 12:00Z, 30 minutes after `now`: at risk
  T5 Billing, normal, anna; created Tue 13 08:00Z (previous period), never answered:
     overdue now, and in the backlog of both periods
  Surveys (outbox kind "survey") are queued by the desk when T3 (Tue 20), T1 and T2 are
  resolved: 3 in the period (T3's second resolution finds its survey still queued).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tests.conftest import Desk
from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, escalation, survey, tickets
from tui_helpdesk.services.directory import find_contact_by_identity

RULES = """
[desk]
ticket_prefix = "HD"
timezone = "Europe/Rome"
survey = true

[calendars.office]
timezone = "Europe/Rome"
hours.mon = ["09:00-17:00"]
hours.tue = ["09:00-17:00"]
hours.wed = ["09:00-17:00"]
hours.thu = ["09:00-17:00"]
hours.fri = ["09:00-17:00"]
holidays = ["2026-10-26"]

[[sla]]
name = "standard"
calendar = "office"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution = { urgent = "8h", high = "16h", normal = "16h", low = "40h" }
"""

FROM = "2026-10-19"
TO = "2026-10-30"
NOW = datetime(2026, 10, 30, 11, 30, tzinfo=UTC)
PERIOD_START = datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
PERIOD_END = datetime(2026, 10, 30, 23, 0, tzinfo=UTC)
FORMULA = "=cmd|' /C calc'!A0"
T4_SUBJECT = "@SUM(A1) new laptop"  # a subject a spreadsheet would run


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class History:
    t1: str
    t2: str
    t3: str
    t4: str
    t5: str


def craft(d: Desk) -> History:
    store, bob, admin = d.store, d.agent, d.admin
    with store.write() as s:
        desk.apply_rules(s, admin, at(1, 8), parse_rules(RULES))

    def create(when: datetime, subject: str, **fields: object) -> str:
        fields.setdefault("requester", "anna@acme.example")
        fields.setdefault("group", "L1")
        with store.write() as s:
            new = tickets.NewTicket(subject, body="help", channel=Channel.EMAIL, **fields)  # type: ignore[arg-type]
            return tickets.create_ticket(s, bob, when, new).key

    def customer_writes(key: str, email: str, when: datetime) -> None:
        with store.write() as s:
            author = find_contact_by_identity(s, email, None)
            assert author is not None
            tickets.add_customer_message(s, bob, when, key, author, "still broken")

    def reply(key: str, when: datetime, status: Status | None = None) -> None:
        with store.write() as s:
            tickets.reply(s, bob, when, key, "on it", status=status)

    def set_status(key: str, when: datetime, status: Status) -> None:
        with store.write() as s:
            tickets.change_status(s, bob, when, key, status)

    t5 = create(at(13, 8), "Old invoice", category="Billing", group=None)
    t3 = create(
        at(19, 8),
        "Network down",
        category="Technical > Network",
        priority=Priority.HIGH,
        tags=["vpn", "outage"],
    )
    with store.write() as s:
        escalation.escalate_ticket(s, bob, at(19, 11), t3, to_group="L2", reason="big")
    reply(t3, at(19, 12))
    set_status(t3, at(20, 8), Status.RESOLVED)
    customer_writes(t3, "anna@acme.example", at(21, 8))
    set_status(t3, at(22, 8), Status.RESOLVED)

    t1 = create(at(22, 8), "Invoice wrong", category="Billing", assignee="bob", tags=["vpn"])
    reply(t1, at(22, 9, 30))
    set_status(t1, at(23, 14), Status.RESOLVED)

    t2 = create(
        at(23, 13), "Refund", category="Billing", assignee="bob", requester="zed@globex.example"
    )
    reply(t2, at(27, 9), Status.PENDING)
    customer_writes(t2, "zed@globex.example", at(28, 9))
    reply(t2, at(28, 12), Status.RESOLVED)

    t4 = create(at(30, 8), T4_SUBJECT, assignee="bob")

    for key, email, answer, when in (
        (t1, "anna@acme.example", f"4 {FORMULA}", at(24, 10)),
        (t3, "anna@acme.example", "2", at(22, 9)),
    ):
        with store.write() as s:
            author = find_contact_by_identity(s, email, None)
            assert author is not None
            ticket = tickets.get_ticket(s, key)
            survey.take_survey_reply(s, bob, when, ticket, author, answer, None)
    return History(t1, t2, t3, t4, t5)
