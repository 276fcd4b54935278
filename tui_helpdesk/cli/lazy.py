"""Command groups whose commands are built and imported when they run.

A command's module, and what it imports (services, rules, Rich tables), loads only when that
command is asked for: `helpdesk ticket list` builds the `ticket` noun and nothing of `kb`,
`report` or `ticket sla`. `typer.Typer(cls=lazy_group({name: loader, ...}))` names a group's
loaded-on-use commands, in the order help lists them (after the commands registered on it
directly). A loader returns a Typer app (a noun with verbs) or the function of a single
command.

The verbs registered on a noun (`@app.command()`) are built into Click commands one at a
time too, when asked for: building one reads its function's signature and evaluates every
annotation of it, and `helpdesk ticket list` used to build all twelve `ticket` verbs to run
one. Help, completion and the "did you mean" of a mistyped verb still see every verb (they
build them all).

A group's help lists each command with its summary: the first sentence of its help, whole
(`summary`: "e.g." ends no sentence), wrapped when long rather than cut in the middle as
Click would cut it ("Open a ticket, e.g.").

Every command reached through these groups (and the groups themselves) parses in a
`CommandContext`, which owns the usage errors raised while it parses: Click's parser raises
some without a context (a missing option value: "Option '--now' requires an argument"), and
the hint of `main()` then could not name the command that was run.
"""

from __future__ import annotations

import copy
import functools
import importlib
import re
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup
from typer.models import DefaultPlaceholder

Loader = Callable[[], Any]

# A sentence ends at a full stop followed by a space or the end, but not one that closes
# an abbreviation ("e.g. for a caller", "i.e. the desk's").
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bcf)\.(?=\s|$)")


def summary(help_text: str | None) -> str:
    """A command's line in its group's help: the first sentence of its help (of its first
    paragraph, when that has no full stop), whole."""
    paragraph = " ".join((help_text or "").strip().split("\n\n", 1)[0].split())
    end = _SENTENCE_END.search(paragraph)
    return paragraph[: end.end()] if end else paragraph


def from_module(module: str, name: str) -> Loader:
    """A loader of `name` from the command module `module` (e.g. ".escalate")."""
    return lambda: getattr(importlib.import_module(module, __package__), name)


def as_command(name: str, loaded: Any) -> Any:
    """The Click command for what a loader returned; None for a noun with no verbs yet.
    The shell-completion options are the program's own (the root's), never a command's."""
    if isinstance(loaded, typer.Typer):
        if not loaded.registered_commands and not loaded.registered_groups:
            return None
        command = _noun(loaded)
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(loaded)
        command = typer.main.get_command(single)
    command.name = name
    return command


def _noun(app: typer.Typer) -> Any:
    """A noun's Click group with its verbs built on first use (`LazyGroup.verbs`); what
    `typer.main.get_command(app)` returns otherwise: a noun of one verb and no callback is
    that verb's command, and a group of another class is built as Typer builds it."""
    cls = app.info.cls
    is_group = bool(
        app.registered_callback
        or app.info.callback
        or app.registered_groups
        or len(app.registered_commands) > 1
    )
    lazy_class = isinstance(cls, type) and issubclass(cls, LazyGroup)
    if not is_group or not (lazy_class or cls is None or isinstance(cls, DefaultPlaceholder)):
        return typer.main.get_command(app)
    bare = copy.copy(app)  # the noun without its verbs: the group, its callback and sub-groups
    bare.registered_commands = []
    if not lazy_class:  # Typer's own group class, lazily
        bare.info = copy.copy(app.info)
        bare.info.cls = LazyGroup
    group = typer.main.get_group(bare)
    assert isinstance(group, LazyGroup)
    build = functools.partial(
        typer.main.get_command_from_info,
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )
    group.verbs = {
        info.name or typer.main.get_command_name(info.callback.__name__): functools.partial(
            build, info
        )
        for info in app.registered_commands
        if info.callback is not None
    }
    return group


class CommandContext(typer.Context):
    """A command's context that takes the usage errors raised while it was current and
    given no context (Click's parser gives none to "Option '--now' requires an argument"),
    so the error names the command that was run (`helpdesk escalate`, not `helpdesk`)."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        # The innermost context leaves first: the command whose arguments were being read.
        if exc_value is not None and getattr(exc_value, "ctx", self) is None:
            exc_value.ctx = self  # type: ignore[attr-defined]
        return super().__exit__(exc_type, exc_value, tb)


class LazyGroup(TyperGroup):
    """A group whose `lazy` commands are built from their modules on first use, and whose
    registered verbs (`verbs`, set by `as_command`) are built from their functions then.
    The group and every command it hands out parse in a `CommandContext`."""

    context_class = CommandContext
    lazy: ClassVar[Mapping[str, Loader]] = {}
    verbs: Mapping[str, Callable[[], Any]] = {}  # name -> builder, in registration order

    def list_commands(self, ctx: Any) -> list[str]:
        own = [
            name
            for name in super().list_commands(ctx)
            if name not in self.lazy and name not in self.verbs
        ]
        return [*self.verbs, *own, *self.lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is None:
            if cmd_name in self.verbs:
                found = self.verbs[cmd_name]()
            elif cmd_name in self.lazy:
                found = as_command(cmd_name, self.lazy[cmd_name]())
            else:
                # A name that is no command: build every verb, so that Typer's "did you mean"
                # (which looks at the built commands) offers them as it always did.
                for name, build in self.verbs.items():
                    if name not in self.commands:
                        self.add_command(build(), name)
                return None
            if found is None:
                return None
            self.add_command(found, cmd_name)
        found.context_class = CommandContext  # however it was built
        if not found.short_help:  # Click would cut it to fit the line, mid-sentence
            found.short_help = summary(found.help)
        return found


def lazy_group(commands: Mapping[str, Loader]) -> type[LazyGroup]:
    """A group class (for `typer.Typer(cls=...)`) whose `commands` load on first use."""
    return type("LazyGroup", (LazyGroup,), {"lazy": dict(commands)})
