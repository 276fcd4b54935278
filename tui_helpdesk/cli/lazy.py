"""Command groups whose commands are imported when they run.

A command's module, and what it imports (services, rules, Rich tables), loads only when that
command is asked for: `helpdesk ticket list` builds the `ticket` noun and nothing of `kb`,
`report` or `ticket sla`. `typer.Typer(cls=lazy_group({name: loader, ...}))` names a group's
loaded-on-use commands, in the order help lists them (after the commands registered on it
directly). A loader returns a Typer app (a noun with verbs) or the function of a single
command.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

Loader = Callable[[], Any]


def from_module(module: str, name: str) -> Loader:
    """A loader of `name` from the command module `module` (e.g. ".escalate")."""
    return lambda: getattr(importlib.import_module(module, __package__), name)


def as_command(name: str, loaded: Any, *, completion: bool = False) -> Any:
    """The Click command for what a loader returned; None for a noun with no verbs yet.
    A single command gets the shell-completion options with `completion`."""
    if isinstance(loaded, typer.Typer):
        if not loaded.registered_commands and not loaded.registered_groups:
            return None
        command = typer.main.get_command(loaded)
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=completion)
        single.command(name)(loaded)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A group whose `lazy` commands are built from their modules on first use."""

    lazy: ClassVar[Mapping[str, Loader]] = {}
    completion: ClassVar[bool] = False  # single commands offer --install-completion

    def list_commands(self, ctx: Any) -> list[str]:
        own = [name for name in super().list_commands(ctx) if name not in self.lazy]
        return [*own, *self.lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in self.lazy:
            found = as_command(cmd_name, self.lazy[cmd_name](), completion=self.completion)
            if found is not None:
                self.add_command(found, cmd_name)
        return found


def lazy_group(commands: Mapping[str, Loader], *, completion: bool = False) -> type[LazyGroup]:
    """A group class (for `typer.Typer(cls=...)`) whose `commands` load on first use."""
    return type("LazyGroup", (LazyGroup,), {"lazy": dict(commands), "completion": completion})
