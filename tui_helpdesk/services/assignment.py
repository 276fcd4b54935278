"""Automatic assignment by skills and workload (DESIGN §5), for groups the rules file lists
in `[desk] auto_assign`.

`pick_assignee` gathers the group's members, their skills and their open-ticket load in three
small queries and lets the pure `rules.assignment.choose_assignee` decide; ticket creation and
group moves (`tickets.create_ticket`, `ticket_changes.assign`, so escalations too) call it when
a ticket lands in such a group with nobody owning it. The decision and its reason go into the
audit trail under the rule name `auto-assign`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES
from tui_helpdesk.rules.assignment import Candidate, choose_assignee
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.store.models import Agent, AgentSkill, GroupMember, Ticket
from tui_helpdesk.store.models import Group as AgentGroup

RULE = "auto-assign"


def assigns_automatically(session: Session, group: AgentGroup | None) -> bool:
    return group is not None and active_rules(session).desk.assigns_automatically(group.name)


def needed_skills(ticket: Ticket) -> list[str]:
    skills = (ticket.custom_fields or {}).get("skills") or []
    return [str(skill) for skill in skills]


def pick_assignee(
    session: Session, group: AgentGroup, needed: Iterable[str], now: datetime
) -> tuple[Agent | None, str]:
    """The member of `group` to give a ticket to, and why; (None, why) when nobody fits. The
    chosen agent's `last_assigned_at` moves to `now` (round robin among equals)."""
    with session.no_autoflush:
        members = list(
            session.scalars(
                select(Agent)
                .join(GroupMember, GroupMember.agent_id == Agent.id)
                .where(GroupMember.group_id == group.id)
            )
        )
        ids = [agent.id for agent in members]
        skills: dict[int, set[str]] = {agent_id: set() for agent_id in ids}
        loads: dict[int, int] = {}
        if ids:
            for agent_id, skill in session.execute(
                select(AgentSkill.agent_id, AgentSkill.skill).where(AgentSkill.agent_id.in_(ids))
            ):
                skills[agent_id].add(skill)
            loads = {
                agent_id: count
                for agent_id, count in session.execute(
                    select(Ticket.assignee_id, func.count())
                    .where(Ticket.assignee_id.in_(ids), Ticket.status.in_(ACTIVE_STATUSES))
                    .group_by(Ticket.assignee_id)
                )
            }
    candidates = [
        Candidate(
            login=agent.login,
            active=agent.active,
            presence=agent.presence,
            skills=frozenset(skills[agent.id]),
            capacity=agent.capacity,
            load=loads.get(agent.id, 0),
            last_assigned_at=agent.last_assigned_at,
        )
        for agent in members
    ]
    login, why = choose_assignee(candidates, needed)
    chosen = next((agent for agent in members if agent.login == login), None)
    if chosen is not None:
        chosen.last_assigned_at = now
    return chosen, f"{group.name}: {why}"
