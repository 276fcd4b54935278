"""Who is acting: an agent, or the desk itself (rules, intake, cron)."""

from __future__ import annotations

from dataclasses import dataclass

from tui_helpdesk.domain import Role
from tui_helpdesk.services.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    login: str
    agent_id: int | None = None
    role: Role | None = None
    name: str | None = None

    @property
    def is_agent(self) -> bool:
        return self.agent_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(login=label)


def require_admin(actor: Actor, what: str) -> None:
    """Refuse an agent who is not an admin: `what` is the admin's job ("apply rules", "add
    agents"). The desk itself (rules, intake, cron) is not refused. The one check for every
    admin-only operation, so they all refuse in the same words."""
    if actor.is_agent and not actor.is_admin:
        raise PermissionDenied(f"{actor.login} is not an admin: only admins {what}")
