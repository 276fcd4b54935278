"""Who is acting: an agent, or the desk itself (rules, intake, cron)."""

from __future__ import annotations

from dataclasses import dataclass

from tui_helpdesk.domain import Role


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
