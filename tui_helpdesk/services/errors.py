"""Errors a service raises for the caller to show: one line each, no traceback."""

from __future__ import annotations

from datetime import datetime


class ServiceError(Exception):
    """An operation that could not be done. `exit_code` follows DESIGN §8."""

    exit_code = 1


class NotFound(ServiceError):
    pass


class InvalidTransition(ServiceError):
    pass


class ValidationError(ServiceError):
    """Bad input from the user (a usage error: exit code 2)."""

    exit_code = 2


class PermissionDenied(ServiceError):
    pass


class Conflict(ServiceError):
    """The ticket changed since the caller read it; nothing was written."""

    def __init__(
        self,
        key: str,
        expected_version: int | None,
        current_version: int | None,
        changed_by: str | None,
        changed_at: datetime | None,
        change: str | None,
    ) -> None:
        self.key = key
        self.expected_version = expected_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.change = change
        who = changed_by or "someone else"
        when = f" at {changed_at:%Y-%m-%d %H:%M} UTC" if changed_at else ""
        what = f" ({change})" if change else ""
        versions = (
            f" [version {expected_version} -> {current_version}]"
            if expected_version is not None and current_version is not None
            else ""
        )
        super().__init__(
            f"{key} was changed by {who}{when}{what} since you loaded it{versions}; "
            "nothing was saved: reload and try again"
        )
