"""Settings: where things are and personal preferences (DESIGN §7).

Loaded once at the edge (CLI or console start-up) into one frozen `Settings`, with the
precedence flags > environment > user file > site file > defaults, and passed down. Desk-wide
policy is not here: it lives in the rules file, applied into the database.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import site_config_path, user_config_path, user_data_path

APP_NAME = "helpdesk"
ENV_CONFIG = "HELPDESK_CONFIG"
ENV_DATABASE_URL = "HELPDESK_DATABASE_URL"
ENV_AGENT = "HELPDESK_AGENT"
ENV_SMTP_URL = "HELPDESK_SMTP_URL"
ENV_IMAP_URL = "HELPDESK_IMAP_URL"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the key."""


def user_config_dir() -> Path:
    return user_config_path(APP_NAME, appauthor=False)


def default_config_path() -> Path:
    return user_config_dir() / "config.toml"


def default_rules_path() -> Path:
    return user_config_dir() / "rules.toml"


def site_config_file() -> Path:
    return site_config_path(APP_NAME, appauthor=False) / "config.toml"


SUPPORTED_DATABASES = ("sqlite", "postgresql", "postgres")


def unsupported_database(url: str) -> str | None:
    """Why the desk cannot use `url`, or None: it keeps its data in SQLite or PostgreSQL."""
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower() if "://" in url else ""
    if scheme in SUPPORTED_DATABASES:
        return None
    what = f"{scheme!r} databases are not supported" if scheme else "not a database URL"
    return f"{what} (sqlite:///path/to/desk.db or postgresql://user@host/dbname)"


def default_database_url() -> str:
    return f"sqlite:///{user_data_path(APP_NAME, appauthor=False) / 'helpdesk.db'}"


@dataclass(frozen=True)
class MailSettings:
    """The `[mail]` table: the desk's address and its mail servers (DESIGN §6, §7)."""

    address: str | None = None  # From of everything we send, To of what customers write
    smtp_url: str | None = None  # smtp://[user@]host[:port] (STARTTLS when offered) or smtps://
    imap_url: str | None = None  # imap[s]://[user@]host[:port][/FOLDER]
    password_file: Path | None = None  # never a password on the command line or in the file
    attachment_limit: int = 10 * 1024 * 1024  # bytes kept per attachment; larger are skipped
    templates: Path | None = None  # a folder of templates overriding the built-in ones

    def password(self) -> str | None:
        """The mail password from `password_file` (first line), or None when there is none."""
        if self.password_file is None:
            return None
        try:
            text = self.password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{self.password_file}: mail.password_file: cannot read: {exc.strerror}"
            ) from None
        return text.splitlines()[0] if text else ""


_MAIL_SCHEMES = {"smtp_url": ("smtp", "smtps"), "imap_url": ("imap", "imaps")}


def _check_mail(path: Path | str, mail: Mapping[str, Any]) -> dict[str, Any]:
    """The `[mail]` keys, checked; the error names the file and the key."""
    out: dict[str, Any] = {}
    for key, value in mail.items():
        if key in ("address", "smtp_url", "imap_url"):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}: mail.{key}: expected a non-empty string")
            value = value.strip()
            if key == "address" and ("@" not in value or any(c.isspace() for c in value)):
                raise ConfigError(f"{path}: mail.address: {value!r} is not an email address")
            if key in _MAIL_SCHEMES:
                scheme = value.partition("://")[0].lower()
                if "://" not in value or scheme not in _MAIL_SCHEMES[key]:
                    expected = " or ".join(f"{s}://" for s in _MAIL_SCHEMES[key])
                    raise ConfigError(f"{path}: mail.{key}: expected a URL starting {expected}")
            out[key] = value
        elif key in ("password_file", "templates"):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}: mail.{key}: expected a path")
            out[key] = Path(value).expanduser()
        elif key == "attachment_limit":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{path}: mail.attachment_limit: expected a number of bytes")
            out[key] = value
        else:
            raise ConfigError(
                f"{path}: mail.{key}: unknown key (expected address, smtp_url, imap_url, "
                "password_file, attachment_limit, templates)"
            )
    return out


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_path: Path
    rules_path: Path
    timezone: str | None = None  # display time zone; None = the desk's
    theme: str = "textual-dark"
    # The `[keymap]` value as the file has it, unchecked: only the console uses it, and
    # checks it as it starts (`console_keymap`), so a console preference (or a binding id a
    # later release renamed) never stops `escalate` or `mail fetch` from cron.
    keymap: object = field(default_factory=dict)
    keymap_path: Path | None = None  # the file the keymap is from (default: config_path)
    mail: MailSettings = field(default_factory=MailSettings)
    database_url_source: str = "default"


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only where a config file exists: every command loads settings

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _check(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a config document; unknown keys are errors so typos don't pass silently."""
    known_top = {"database", "display", "keymap", "mail"}
    for key in data:
        if key not in known_top:
            raise ConfigError(f"{path}: unknown key {key!r} (expected one of {sorted(known_top)})")
    out: dict[str, Any] = {}
    database = data.get("database", {})
    if not isinstance(database, dict):
        raise ConfigError(f"{path}: database: expected a table")
    for key, value in database.items():
        if key != "url":
            raise ConfigError(f"{path}: database.{key}: unknown key (expected 'url')")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: database.url: expected a database URL string")
        problem = unsupported_database(value.strip())
        if problem:
            raise ConfigError(f"{path}: database.url: {problem}")
        out["database_url"] = value.strip()
    display = data.get("display", {})
    if not isinstance(display, dict):
        raise ConfigError(f"{path}: display: expected a table")
    for key, value in display.items():
        if key == "timezone":
            if not isinstance(value, str):
                raise ConfigError(f"{path}: display.timezone: expected a time zone name")
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{path}: display.timezone: unknown time zone {value!r}"
                ) from None
            out["timezone"] = value
        elif key == "theme":
            if not isinstance(value, str):
                raise ConfigError(f"{path}: display.theme: expected a theme name")
            out["theme"] = value
        else:
            raise ConfigError(f"{path}: display.{key}: unknown key (expected timezone, theme)")
    if "keymap" in data:  # checked by the console alone: `console_keymap`
        out["keymap"], out["keymap_path"] = data["keymap"], path
    mail = data.get("mail", {})
    if not isinstance(mail, dict):
        raise ConfigError(f"{path}: mail: expected a table")
    if mail:
        out["mail"] = _check_mail(path, mail)
    return out


def load_settings(
    config_path: Path | None = None,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: flags > environment > user file > site file > defaults."""
    env = os.environ if environ is None else environ
    explicit = config_path or (Path(env[ENV_CONFIG]) if env.get(ENV_CONFIG) else None)
    if explicit is not None and not explicit.expanduser().exists():
        raise ConfigError(f"{explicit}: config file not found")
    user_path = (explicit or default_config_path()).expanduser()

    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    mail: dict[str, Any] = {}
    for path in (site_config_file(), user_path):
        if path.exists():
            values = _check(path, _read_toml(path))
            mail.update(values.pop("mail", {}))
            merged.update(values)
            if "database_url" in values:
                sources["database_url"] = str(path)

    url = merged.pop("database_url", None)
    source = sources.get("database_url", "default")
    if env.get(ENV_DATABASE_URL):
        url, source = env[ENV_DATABASE_URL], ENV_DATABASE_URL
    if database_url:
        url, source = database_url, "--db"
    if not url:
        url, source = default_database_url(), "default"
    for env_name, key in ((ENV_SMTP_URL, "smtp_url"), (ENV_IMAP_URL, "imap_url")):
        if env.get(env_name):
            mail.update(_check_mail(env_name, {key: env[env_name]}))

    return Settings(
        database_url=url,
        database_url_source=source,
        config_path=user_path,
        rules_path=user_path.parent / "rules.toml",
        mail=MailSettings(**mail),
        **merged,
    )


STARTER_CONFIG_HEADER = """\
# tui-helpdesk configuration: where things are and your own preferences.
# Desk-wide policy (SLA, escalation, routing) is in rules.toml, applied with
# `helpdesk rules apply`.  Precedence: flags > environment > this file > /etc/xdg/helpdesk.
"""


def console_keymap(settings: Settings) -> dict[str, str]:
    """The `[keymap]` of `settings`, checked, for the console to apply as it starts: a
    `ConfigError` naming the file and the key for an id no screen declares or keys no
    keyboard sends. Commands other than the console never call this: the keymap is the
    console's preference, and a typo in it must not stop cron's commands."""
    path = settings.keymap_path or settings.config_path
    keymap = settings.keymap
    if not isinstance(keymap, Mapping):
        raise ConfigError(f'{path}: keymap: expected a table of binding id = "keys"')
    for binding, keys in keymap.items():
        _check_binding(path, binding, keys)
    return dict(keymap)


def _check_binding(path: Path, binding: str, keys: object) -> None:
    """A keymap entry: the id of a binding the console declares, such as `queue.refresh`,
    and keys such as `ctrl+r` or `f5,ctrl+r` (Textual's names, comma-separated). A typo in
    either is an error: an unknown id would change nothing, and a key no keyboard sends
    would take the action off the screen."""
    from tui_helpdesk.keymap import BINDING_IDS, is_key, split_keys

    where = f"{path}: keymap.{binding}"
    if isinstance(keys, dict):  # `queue.refresh = "r"`: TOML reads a table `queue`
        inner = next(iter(keys), "action")
        raise ConfigError(f'{where}: quote the binding id: "{binding}.{inner}" = "keys"')
    if binding not in BINDING_IDS:
        screen = binding.split(".")[0]
        same = sorted(b for b in BINDING_IDS if b.split(".")[0] == screen)
        known = (
            f"{screen}'s are {', '.join(same)}"
            if same
            else 'ids name the screen and the action, like "queue.refresh" or "ticket.reply"'
        )
        raise ConfigError(f"{where}: no such binding ({known})")
    how = 'write keys like "r", "f5", "ctrl+r"; several separated by commas'
    if not isinstance(keys, str):
        raise ConfigError(f"{where}: expected the keys as a string ({how}), got {keys!r}")
    bad = [key for key in split_keys(keys) if not is_key(key)]
    if bad:
        raise ConfigError(f"{where}: {bad[0]!r} is not a key ({how})")


def starter_config(database_url: str) -> str:
    body: dict[str, Any] = {
        "database": {"url": database_url},
        "display": {"theme": "textual-dark"},
    }
    import tomli_w  # only `helpdesk init` and the console's theme write the file

    return (
        STARTER_CONFIG_HEADER
        + "\n# database.url: sqlite:///path/to/file.db or postgresql://user@host/dbname\n"
        + '# display.timezone: e.g. "Europe/Rome" (default: the desk\'s time zone)\n'
        + "# [keymap] overrides console key bindings by id (the screen, a dot, the action;\n"
        + '# `?` in the console lists them), e.g. "queue.refresh" = "ctrl+r"\n\n'
        + tomli_w.dumps(body)
    )


_TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
_THEME_KEY = re.compile(r"^\s*theme\s*=")


def save_theme(path: Path, theme: str) -> None:
    """Remember the console's theme: `display.theme` in the config file at `path`.

    The file keeps its other keys and its comments: the `theme` line of `[display]` is
    replaced, or added under `[display]`, or a `[display]` table is appended. The result is
    checked by reading it back before it replaces the file (written beside it, then renamed).
    """
    import tomllib

    import tomli_w  # only `helpdesk init` and the console's theme write the file

    line = tomli_w.dumps({"theme": theme}).strip()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text:
        _check(path, _read_toml(path))  # never rewrite a file that is already wrong
    lines = text.splitlines()
    table: str | None = None
    display_at: int | None = None
    for i, current in enumerate(lines):
        header = _TABLE.match(current)
        if header:
            table = header.group(1).strip()
            if table == "display":
                display_at = i
        elif table == "display" and _THEME_KEY.match(current):
            lines[i] = line
            break
    else:
        if display_at is not None:
            lines.insert(display_at + 1, line)
        else:
            lines += (["", "[display]"] if lines else ["[display]"]) + [line]
    updated = "\n".join(lines) + "\n"
    try:
        if tomllib.loads(updated).get("display", {}).get("theme") != theme:
            raise ValueError(theme)
    except (tomllib.TOMLDecodeError, ValueError):
        raise ConfigError(f"{path}: display.theme: could not be saved") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(updated)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
