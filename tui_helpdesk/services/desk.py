"""The desk's active rules document: reading its settings and applying a new version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tui_helpdesk.rules.document import DeskSettings, RulesDocument, desk_from_document
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import PermissionDenied
from tui_helpdesk.store.models import RuleSet


def active_rule_set(session: Session) -> RuleSet | None:
    return session.scalars(select(RuleSet).where(RuleSet.active.is_(True))).first()


def desk_settings(session: Session) -> DeskSettings:
    rule_set = active_rule_set(session)
    return desk_from_document(rule_set.document if rule_set else None)


def apply_rules(
    session: Session, actor: Actor, now: datetime, document: RulesDocument
) -> tuple[RuleSet, bool]:
    """Store `document` as the active version. Returns (rule set, created); applying the
    text that is already active changes nothing."""
    if actor.is_agent and not actor.is_admin:
        raise PermissionDenied(f"{actor.login} is not an admin: only admins apply rules")
    current = active_rule_set(session)
    if current is not None and current.sha256 == document.sha256:
        return current, False
    next_version = (session.scalar(select(func.max(RuleSet.version))) or 0) + 1
    session.execute(update(RuleSet).where(RuleSet.active.is_(True)).values(active=False))
    rule_set = RuleSet(
        version=next_version,
        document=document.data,
        source=document.source_text,
        sha256=document.sha256,
        applied_by=actor.login,
        applied_at=now,
        active=True,
    )
    session.add(rule_set)
    session.flush()
    return rule_set, True


def rule_set_history(session: Session, limit: int = 50) -> list[RuleSet]:
    """Applied versions of the rules, newest first."""
    return list(session.scalars(select(RuleSet).order_by(RuleSet.version.desc()).limit(limit)))
