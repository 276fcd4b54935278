"""Option values converted without pydantic where the conversion is trivial.

Typer (0.2x) converts each parameter's value through a pydantic `TypeAdapter` built on first
use, and builds one for every parameter of the command that runs (its --help included, even
when no value was given), so every command imports pydantic: 60-100 ms, as much as Typer
itself, before the command does anything. Nearly every value needs none of it: a string
stays a string, a flag is a bool, a count is a few digits, a choice is one of its enum's
values. `install()` has Typer give every parameter a converter that does those cases
itself and hands any other value (a bad one, a negative or padded number, a path, a date, a
file) to Typer's own converter, built then as before, so the results and every error message
stay Typer's. On a Typer without per-parameter converters (older versions parse with Click
alone) it does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

try:  # the converters of Typer >= 0.25; private, hence the guard
    import typer.core as typer_core
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_choice
except ImportError:  # pragma: no cover - an older or newer Typer: keep its own converters
    typer_core = None  # type: ignore[assignment]

_MISS = object()
_DIGITS = re.compile(r"0|[1-9][0-9]{0,17}")  # what int() and pydantic read alike


def install() -> None:
    """Have Typer give every parameter the quick converter. Idempotent."""
    if typer_core is None or not hasattr(typer_core, "build_runtime_param"):
        return  # pragma: no cover - see the import
    typer_core.build_runtime_param = _build


def _build(descriptor: TypeDescriptor) -> RuntimeParam:
    """Every parameter gets the quick converter: Typer builds its own for a parameter
    before it looks at the value, even an absent one, and `_Quick` builds it only for a
    value that needs it."""
    return _Quick(
        parameter_info=descriptor.parameter_info,
        annotation=descriptor.annotation,
        descriptor=descriptor,
    )


if typer_core is not None:

    @dataclass(frozen=True)
    class _Quick(RuntimeParam):
        """Plain values converted here; anything else by Typer's own converter."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            quick = _convert(self.descriptor, value, ctx)
            if quick is not _MISS:
                return quick
            return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)


def _convert(descriptor: TypeDescriptor, value: Any, ctx: Any) -> Any:
    """`value` converted as Typer's converter would, or `_MISS` to leave it to that one."""
    info, annotation = descriptor.parameter_info, descriptor.annotation
    if info.parser is not None or descriptor.file_annotation is not None:
        return _MISS
    if get_origin(annotation) is list:
        if not isinstance(value, list | tuple):
            return _MISS
        (item_type,) = get_args(annotation)
        items = [_scalar(item_type, info, item, ctx) for item in value]
        return _MISS if any(item is _MISS for item in items) else items
    return _scalar(annotation, info, value, ctx)


def _scalar(annotation: Any, info: Any, value: Any, ctx: Any) -> Any:
    if annotation is str:
        return value if isinstance(value, str) else _MISS
    if annotation is bool:
        return value if isinstance(value, bool) else _MISS
    if annotation is int:
        return _count(info, value)
    if not (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return _MISS  # paths, dates, numbers with a point: Typer's converter
    try:  # the member named by its value, as Typer's choice converter finds it
        return coerce_cli_choice(
            value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx
        )
    except ValueError:
        return _MISS  # Typer's converter words the error


def _count(info: Any, value: Any) -> Any:
    if info.clamp:
        return _MISS
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    elif type(value) is int:
        number = value
    else:
        return _MISS
    low, high = info.min, info.max
    if (low is not None and number < low) or (high is not None and number > high):
        return _MISS
    return number
