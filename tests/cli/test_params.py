"""`cli.params`: option values converted without pydantic give exactly what Typer's own
converters give, values and error messages alike (each case runs both ways)."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import typer
import typer.core

from tui_helpdesk.cli import params

pytest.importorskip("typer._coercion")  # the converters `cli.params` speeds up


class Colour(enum.StrEnum):
    RED = "red"
    DARK_BLUE = "dark_blue"


def _app(seen: list[dict[str, Any]]) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def command(
        name: Annotated[str, typer.Argument()],
        text: Annotated[str | None, typer.Option("--text")] = None,
        count: Annotated[int, typer.Option("--count", min=1, max=500)] = 50,
        plain: Annotated[int | None, typer.Option("--plain")] = None,
        colour: Annotated[Colour, typer.Option("--colour")] = Colour.RED,
        colours: Annotated[list[Colour] | None, typer.Option("--colours")] = None,
        tags: Annotated[list[str] | None, typer.Option("--tag")] = None,
        flag: Annotated[bool, typer.Option("--flag")] = False,
        ratio: Annotated[float | None, typer.Option("--ratio")] = None,
    ) -> None:
        values = dict(locals())
        del values["seen"]  # the closure's list, not a parameter
        seen.append(values)

    return app


CASES = [
    ["x"],
    ["x", "--text", "hello", "--count", "7", "--colour", "dark_blue", "--flag"],
    ["x", "--count", "500", "--plain", "0", "--tag", "a", "--tag", "b", "--colours", "red"],
    ["x", "--count", "007"],
    ["x", "--count", "0"],
    ["x", "--count", "501"],
    ["x", "--count", "-3"],
    ["x", "--count", " 5"],
    ["x", "--count", "5.0"],
    ["x", "--count", "1_0"],
    ["x", "--plain", "-12"],
    ["x", "--plain", "123456789012345678901234567890"],
    ["x", "--colour", "RED"],
    ["x", "--colour", "blue"],
    ["x", "--colours", "red", "--colours", "green"],
    ["x", "--ratio", "0.5"],
    ["x", "--text", ""],
]


def _run(args: list[str]) -> tuple[str, Any]:
    seen: list[dict[str, Any]] = []
    command = typer.main.get_command(_app(seen))
    try:
        command.main(args=args, prog_name="t", standalone_mode=False)
    except Exception as exc:  # the error itself is what is compared
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return type(exc).__name__, message
    return "ok", seen[0]


@pytest.fixture
def typer_converters(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Typer's own converters for the test, whatever `main()` installed in this process."""
    monkeypatch.setattr(typer.core, "build_runtime_param", params.build_runtime_param)
    yield


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_quick_values_are_typers_values(
    args: list[str], typer_converters: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _run(args)
    monkeypatch.setattr(typer.core, "build_runtime_param", params._build)
    assert _run(args) == expected


def test_plain_values_need_no_typer_converter(
    typer_converters: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    build = params.build_runtime_param  # Typer's

    def typers(descriptor: Any) -> Any:
        built.append(descriptor.annotation)
        return build(descriptor)

    monkeypatch.setattr(typer.core, "build_runtime_param", params._build)
    monkeypatch.setattr(params, "build_runtime_param", typers)
    assert _run(CASES[1])[0] == "ok" and _run(CASES[2])[0] == "ok"
    assert built == []
    assert _run(["x", "--ratio", "0.5"])[0] == "ok"
    assert built == [float]  # the rest go to Typer's converter
