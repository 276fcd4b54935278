"""Settings: flags > environment > user file > site file > defaults; errors name file and key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tui_helpdesk.config import (
    ConfigError,
    console_keymap,
    default_database_url,
    load_settings,
    save_theme,
    starter_config,
)
from tui_helpdesk.keymap import BINDING_IDS, is_key


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(user config dir, site config dir), both empty, and no HELPDESK_* variables."""
    user, site = tmp_path / "home-config", tmp_path / "etc-xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(site))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("HELPDESK_CONFIG", "HELPDESK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (user / "helpdesk").mkdir(parents=True)
    (site / "helpdesk").mkdir(parents=True)
    return user / "helpdesk", site / "helpdesk"


def test_defaults(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    settings = load_settings(environ={})
    assert settings.database_url == default_database_url()
    assert str(tmp_path / "data" / "helpdesk" / "helpdesk.db") in settings.database_url
    assert settings.database_url_source == "default"
    assert settings.config_path == dirs[0] / "config.toml"
    assert settings.rules_path == dirs[0] / "rules.toml"
    assert settings.theme == "textual-dark"


def test_precedence_flag_env_user_site(dirs: tuple[Path, Path]) -> None:
    user, site = dirs
    (site / "config.toml").write_text(
        '[database]\nurl = "sqlite:///site.db"\n[display]\ntheme = "nord"\n'
    )
    settings = load_settings(environ={})
    assert (settings.database_url, settings.theme) == ("sqlite:///site.db", "nord")
    assert settings.database_url_source == str(site / "config.toml")

    (user / "config.toml").write_text('[database]\nurl = "sqlite:///user.db"\n')
    settings = load_settings(environ={})
    assert (settings.database_url, settings.theme) == ("sqlite:///user.db", "nord")

    env = {"HELPDESK_DATABASE_URL": "sqlite:///env.db"}
    assert load_settings(environ=env).database_url == "sqlite:///env.db"
    assert load_settings(database_url="sqlite:///flag.db", environ=env).database_url == (
        "sqlite:///flag.db"
    )
    assert load_settings(database_url="sqlite:///flag.db", environ=env).database_url_source == (
        "--db"
    )


def test_config_path_from_flag_or_environment(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(
        '[database]\nurl = "sqlite:///other.db"\n'
        '[keymap]\n"queue.refresh" = "f5,R"\n"queue.view.all_open" = "a"\n'
    )
    by_env = load_settings(environ={"HELPDESK_CONFIG": str(other)})
    assert by_env.database_url == "sqlite:///other.db"
    assert by_env.keymap == {"queue.refresh": "f5,R", "queue.view.all_open": "a"}
    assert load_settings(config_path=other, environ={}).config_path == other
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_settings(config_path=tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[database\n", "not valid TOML"),
        ("[database]\nurl = 42\n", "database.url: expected a database URL string"),
        ('[database]\nurl = "mysql://x/y"\n', "database.url: 'mysql' databases are not supported"),
        ('[database]\nurl = "desk.db"\n', "database.url: not a database URL"),
        ('[database]\nuri = "x"\n', "database.uri: unknown key"),
        ('[display]\ntimezone = "Mars/Olympus"\n', "display.timezone: unknown time zone"),
        ('[display]\ncolour = "red"\n', "display.colour: unknown key"),
        ('colour = "red"\n', "unknown key 'colour'"),
    ],
)
def test_errors_name_the_file_and_the_key(dirs: tuple[Path, Path], text: str, message: str) -> None:
    path = dirs[0] / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


KEYMAP_ERRORS = [
    ("keymap = 1\n", "keymap: expected a table"),
    ('[keymap]\nreply = "r"\n', "keymap.reply: no such binding (ids name the screen"),
    ('[keymap]\n"ticket.reply" = "ctrl+r+"\n', "keymap.ticket.reply: 'ctrl+r+' is not a key"),
    ('[keymap]\n"ticket.reply" = "ctrl+zz"\n', "keymap.ticket.reply: 'ctrl+zz' is not a key"),
    ('[keymap]\n"ticket.reply" = "r, f99"\n', "keymap.ticket.reply: 'f99' is not a key"),
    (
        '[keymap]\n"queue.nonexistent" = "x"\n',
        "keymap.queue.nonexistent: no such binding (queue's are queue.bulk, ",
    ),
    (
        '[keymap]\n"queue.refresh" = 5\n',
        "keymap.queue.refresh: expected the keys as a string (write keys like",
    ),
    (
        '[keymap]\nqueue.refresh = "r"\n',
        'keymap.queue: quote the binding id: "queue.refresh" = "keys"',
    ),
]


@pytest.mark.parametrize(("text", "message"), KEYMAP_ERRORS)
def test_the_console_checks_the_keymap_naming_the_file_and_the_key(
    dirs: tuple[Path, Path], text: str, message: str
) -> None:
    """The keymap is the console's preference: settings load whatever it says (every command
    reads the config, cron's included), and the console refuses it as it starts."""
    path = dirs[0] / "config.toml"
    path.write_text(text + '[display]\ntheme = "nord"\n')
    settings = load_settings(environ={})
    assert settings.theme == "nord"
    with pytest.raises(ConfigError) as caught:
        console_keymap(settings)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_keymap_names_the_file_it_comes_from(dirs: tuple[Path, Path]) -> None:
    user, site = dirs
    (site / "config.toml").write_text('[keymap]\n"queue.nope" = "x"\n')
    (user / "config.toml").write_text('[display]\ntheme = "nord"\n')
    with pytest.raises(ConfigError, match="^" + re.escape(f"{site / 'config.toml'}: keymap.queue")):
        console_keymap(load_settings(environ={}))
    (user / "config.toml").write_text('[keymap]\n"queue.refresh" = "f5"\n')  # the user's wins
    assert console_keymap(load_settings(environ={})) == {"queue.refresh": "f5"}


def test_save_theme_keeps_the_file_and_its_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(starter_config("sqlite:///desk.db"))
    before = path.read_text()
    save_theme(path, "nord")
    after = path.read_text()
    assert load_settings(path, environ={}).theme == "nord"
    assert after.replace('theme = "nord"', 'theme = "textual-dark"') == before


def test_save_theme_adds_the_table_or_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "sqlite:///desk.db"\n')
    save_theme(path, "gruvbox")
    assert load_settings(path, environ={}).theme == "gruvbox"
    assert load_settings(path, environ={}).database_url == "sqlite:///desk.db"
    fresh = tmp_path / "new" / "config.toml"
    save_theme(fresh, "dracula")
    assert load_settings(fresh, environ={}).theme == "dracula"


def test_save_theme_refuses_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[display\ntheme = 1\n")
    with pytest.raises(ConfigError, match=r"config\.toml"):
        save_theme(path, "nord")
    assert path.read_text() == "[display\ntheme = 1\n"


def _console_bindings() -> dict[str, list[Any]]:
    """The bindings each console class declares itself, by the class's qualified name."""
    import importlib
    import inspect
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import tui_helpdesk.screens
    import tui_helpdesk.widgets

    names = ["tui_helpdesk.app"] + [
        f"{package.__name__}.{module.name}"
        for package in (tui_helpdesk.screens, tui_helpdesk.widgets)
        for module in pkgutil.iter_modules(package.__path__)
    ]
    found: dict[str, list[Any]] = {}
    for name in names:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == name:
                own = [b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding)]
                found[f"{name}.{cls.__name__}"] = own
    return found


def test_keymap_ids_are_those_the_console_declares() -> None:
    """`keymap.BINDING_IDS` (read by the CLI, which never imports Textual) lists exactly the
    ids of the console's bindings: add a new binding's id there."""
    declared = {b.id for own in _console_bindings().values() for b in own if b.id}
    assert declared == BINDING_IDS


def test_no_class_binds_one_key_to_two_actions() -> None:
    """One key, one action per screen: the later binding would silently take the key. The
    queue's `escape` is the one shared key, and its two actions never apply at once
    (clearing a filter or marks first, then leaving a report's drill-down)."""
    shared = {("tui_helpdesk.screens.queue.QueueScreen", "escape")}
    twice = set()
    for cls, own in _console_bindings().items():
        keys = [k.strip() for b in own for k in b.key.split(",")]
        twice |= {(cls, k) for k in keys if keys.count(k) > 1}
    assert twice == shared


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("r", True),
        ("R", True),
        ("?", True),
        ("ctrl+r", True),
        ("ctrl+shift+up", True),
        ("f24", True),
        ("question_mark", True),
        ("less_than_sign", True),
        ("ctrl+zz", False),
        ("ctrl+ctrl+r", False),
        ("hyper", False),
        ("f25", False),
        ("", False),
        ("cmd+r", False),
    ],
)
def test_keys_are_checked_by_textuals_naming_rule(key: str, valid: bool) -> None:
    assert is_key(key) is valid
