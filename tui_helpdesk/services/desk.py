"""The desk's active rules document: reading its settings and applying a new version.

Called by `helpdesk rules apply` and `helpdesk init` (cli), and by the services that read the
desk settings. Applying checks what the pure rules parser cannot: that the groups, agents and
categories the rules name exist in this desk (`check_rule_names`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES
from tui_helpdesk.rules.document import DeskSettings, RulesDocument
from tui_helpdesk.rules.escalation import Assign, MoveToGroup
from tui_helpdesk.rules.parsing import show
from tui_helpdesk.rules.sla import category_parts, normalise_category
from tui_helpdesk.services.context import Actor, require_admin
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.sla import RULES_KEY, active_rules
from tui_helpdesk.store.models import Agent, Category, Group, Organization, RuleSet, Ticket

LISTED = 8  # names listed in a message before "..."


def active_rule_set(session: Session) -> RuleSet | None:
    return session.scalars(select(RuleSet).where(RuleSet.active.is_(True))).first()


def desk_settings(session: Session) -> DeskSettings:
    """The `[desk]` table of the active rules: read with them, once per transaction (mail
    intake asks three or four times per mail)."""
    return active_rules(session).desk


# --- names the rules use -----------------------------------------------------------------


@dataclass(frozen=True)
class _Directory:
    """The names of this desk that rules may refer to."""

    groups: tuple[str, ...]
    agents: Mapping[str, bool]  # login -> active
    categories: tuple[str, ...]  # full paths

    @classmethod
    def load(cls, session: Session) -> _Directory:
        return cls(
            # Sorted here, not in SQL: the same order whatever the back end's collation.
            groups=tuple(sorted(session.scalars(select(Group.name)))),
            agents={
                login: active
                for login, active in session.execute(select(Agent.login, Agent.active))
            },
            categories=tuple(sorted(session.scalars(select(Category.path)))),
        )

    def group(self, name: str) -> str | None:
        """The group's name as stored; groups are looked up regardless of case, as
        `directory.get_group` does when the rule is carried out."""
        wanted = name.strip().lower()
        return next((g for g in self.groups if g.lower() == wanted), None)

    def category(self, path: str) -> str | None:
        wanted = [part.lower() for part in category_parts(path)]
        return next(
            (c for c in self.categories if [p.lower() for p in category_parts(c)] == wanted),
            None,
        )


_ADD = {
    "groups": "add one with `helpdesk group add NAME`",
    "agents": "add one with `helpdesk agent add LOGIN`",
    "categories": "add one with `helpdesk category add PATH`",
}


def _listing(plural: str, names: Sequence[str]) -> str:
    """What the desk has instead, for a message: "groups: L1, L2" or how to add one."""
    if not names:
        return f"the desk has no {plural} yet: {_ADD[plural]}"
    shown = ", ".join(names[:LISTED]) + (", ..." if len(names) > LISTED else "")
    return f"{plural}: {shown}"


def _where_values(data: Mapping[str, Any], section: str, key: str) -> Iterator[tuple[str, str]]:
    """(key path, value) of every `where.<key>` item of a section's tables, from the raw
    document (the parsed `Where` keeps sets, which lose the positions the paths need)."""
    items = data.get(section, [])
    for index, table in enumerate(items if isinstance(items, list) else []):
        where = table.get("where", {}) if isinstance(table, Mapping) else {}
        values = where.get(key, []) if isinstance(where, Mapping) else []
        for position, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str):
                yield f"{section}[{index}].where.{key}[{position}]", value.strip()


def _errors(document: RulesDocument, names: _Directory) -> Iterator[str]:
    """Names that must exist for the rules to be carried out: groups and agents of actions,
    groups and categories that routes set, the desk's default group."""
    default = document.desk.default_group
    if default is not None and names.group(default) is None:
        yield f"desk.default_group: no group {show(default)} ({_listing('groups', names.groups)})"
    for index, rule in enumerate(document.escalations):
        for position, action in enumerate(rule.actions):
            key = f"escalation[{index}].actions[{position}]"
            if isinstance(action, MoveToGroup) and names.group(action.group) is None:
                yield f"{key}: no group {show(action.group)} ({_listing('groups', names.groups)})"
            elif isinstance(action, Assign):
                active = names.agents.get(action.login)
                if active is None:
                    listing = _listing("agents", sorted(names.agents))
                    yield f"{key}: no agent {show(action.login)} ({listing})"
                elif not active:
                    yield f"{key}: agent {show(action.login)} is deactivated"
    for index, route in enumerate(document.routes):
        key = f"route[{index}].set"
        if route.set.group is not None and names.group(route.set.group) is None:
            listing = _listing("groups", names.groups)
            yield f"{key}.group: no group {show(route.set.group)} ({listing})"
        if route.set.category is not None and names.category(route.set.category) is None:
            listing = _listing("categories", names.categories)
            yield f"{key}.category: no category {show(route.set.category)} ({listing})"


def _warnings(session: Session, document: RulesDocument, names: _Directory) -> Iterator[str]:
    """Names that only make a condition match nothing (yet): harmless, but likely typos."""
    for section in ("sla", "escalation"):
        for key, group in _where_values(document.data, section, "group"):
            if group in names.groups:
                continue
            stored = names.group(group)
            if stored is not None:
                # `where` compares names exactly (rules/sla.py), unlike the lookups of actions.
                yield f"{key}: the group is named {show(stored)}: {show(group)} matches no ticket"
            else:
                yield (
                    f"{key}: no group {show(group)} ({_listing('groups', names.groups)}): "
                    "it matches no ticket until the group exists"
                )
        for key, raw in _where_values(document.data, section, "category"):
            path = normalise_category(raw, key)
            prefix = category_parts(path)
            if not any(category_parts(c)[: len(prefix)] == prefix for c in names.categories):
                yield f"{key}: no category {show(path)} or below it yet: it matches no ticket"
    policies = {policy.name for policy in document.sla}
    contracts = session.execute(
        select(Organization.sla_policy, func.count())
        .where(Organization.sla_policy.is_not(None))
        .group_by(Organization.sla_policy)
        .order_by(Organization.sla_policy)
    ).all()
    for contract, count in contracts:
        if contract not in policies:
            yield (
                f"sla: {count} organization(s) have a contract naming SLA policy "
                f"{show(contract)}, which these rules lack: their tickets get the first "
                "policy that matches, if any"
            )


def check_rule_names(
    session: Session, document: RulesDocument, source: str = "rules.toml"
) -> list[str]:
    """Check the names the rules use against this desk, before they are applied.

    A group, agent or category that an action or a route would need and the desk lacks is a
    `ValidationError` naming the file and key (`rules.toml: escalation[3].actions[0]: no group
    "SecOps" (groups: L1, L2)`), every one of them, a line each. Returns warnings, each
    `<source>: <key>: ...`, for names that are harmless but probably wrong: a `where` on a
    group or category the desk lacks, an organization's contract naming a policy the rules
    lack. `rules apply --dry-run` calls it alone; `apply_rules` calls it too."""
    names = _Directory.load(session)
    errors = [f"{source}: {error}" for error in _errors(document, names)]
    if len(errors) > 1:  # every one, as the file's own errors are told (`RulesError`)
        errors.insert(0, f"{source}: {len(errors)} errors")
    if errors:
        raise ValidationError("\n".join(errors))
    return [f"{source}: {warning}" for warning in _warnings(session, document, names)]


# --- versions ----------------------------------------------------------------------------


def apply_rules(
    session: Session,
    actor: Actor,
    now: datetime,
    document: RulesDocument,
    *,
    source: str = "rules.toml",
    check_names: bool = True,
) -> tuple[RuleSet, bool]:
    """Store `document` as the active version. Returns (rule set, created); applying the
    text that is already active changes nothing.

    The names the rules use are checked first (`check_rule_names`; its warnings are the
    caller's to show). `check_names=False` is for a caller that checks them later in the same
    transaction: `init --demo` applies the rules before it creates the demo's groups."""
    require_admin(actor, "apply rules")
    if check_names:
        check_rule_names(session, document, source)
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
    session.info.pop(RULES_KEY, None)  # the rules this transaction read are no longer active
    return rule_set, True


def apply_notes(
    session: Session, before: Mapping[str, Any] | None, after: RulesDocument
) -> list[str]:
    """What applying `after` over the version `before` (its document) means for tickets
    already on the desk, for the one applying it: a new ticket prefix numbers only new
    tickets; new SLA policies or calendars reach an active ticket at its next change (its
    clocks are reconciled with the rules in force at each change, keeping the working time
    used), not at once."""
    if before is None:
        return []
    notes: list[str] = []
    old_prefix = str(before.get("desk", {}).get("ticket_prefix", DeskSettings.ticket_prefix))
    new_prefix = after.desk.ticket_prefix
    if old_prefix != new_prefix and session.scalar(select(Ticket.id).limit(1)) is not None:
        notes.append(
            f"ticket prefix {old_prefix} -> {new_prefix}: tickets numbered so far keep "
            f"their {old_prefix}-n numbers; new tickets are {new_prefix}-n"
        )
    if any(before.get(key) != after.data.get(key) for key in ("sla", "calendars")):
        active = session.scalar(select(func.count()).where(Ticket.status.in_(ACTIVE_STATUSES)))
        if active:
            keep, its = ("tickets keep", "their") if active != 1 else ("ticket keeps", "its")
            notes.append(
                f"{active} active {keep} {its} SLA deadlines until {its} next change, when the "
                "new policies and calendars apply"
            )
    return notes


def rule_set_history(session: Session, limit: int = 50) -> list[RuleSet]:
    """Applied versions of the rules, newest first."""
    return list(session.scalars(select(RuleSet).order_by(RuleSet.version.desc()).limit(limit)))
