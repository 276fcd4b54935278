"""Classification of new tickets by the rules file's `[[route]]`s (DESIGN §5).

`route_new_ticket` asks the pure `rules.routing.classify` what the routes decide for a new
ticket's message (channel, sender, subject, body) and resolves the names they set (category,
group) to rows. Ticket creation calls it for every channel; what the caller gave explicitly
wins over a route, and each route that decided something is an audit event naming it.
A route naming a category or group that no longer exists is skipped and says so, so intake
never fails on a stale rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.rules.routing import MessageFacts, RouteDecision, classify
from tui_helpdesk.services.directory import get_category, get_group
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.store.models import Category
from tui_helpdesk.store.models import Group as AgentGroup


@dataclass
class Routing:
    category: Category | None = None
    priority: Priority | None = None
    group: AgentGroup | None = None
    tags: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    decisions: list[RouteDecision] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # route name -> why


def route_new_ticket(
    session: Session, channel: Channel, sender: str | None, subject: str, body: str
) -> Routing:
    routes = active_rules(session).routes
    routing = Routing()
    if not routes:
        return routing
    facts = MessageFacts(channel=channel, sender=sender, subject=subject, body=body)
    for decision in classify(routes, facts):
        routing.decisions.append(decision)
        changes = decision.changes
        try:
            if changes.category and routing.category is None:
                routing.category = get_category(session, changes.category)
            if changes.group and routing.group is None:
                routing.group = get_group(session, changes.group)
        except NotFound as missing:
            routing.skipped[decision.rule] = str(missing)
        routing.priority = routing.priority or changes.priority
        routing.tags.extend(changes.tags)
        routing.skills.extend(changes.skills)
    return routing


def decision_detail(decision: RouteDecision, skipped: str | None) -> dict[str, object]:
    changes = decision.changes
    return {
        "category": changes.category,
        "priority": changes.priority.value if changes.priority else None,
        "group": changes.group,
        "tags": list(changes.tags),
        "skills": list(changes.skills),
        "skipped": skipped,
    }
