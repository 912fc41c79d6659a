"""Settings: command-line flags over WT_* environment over the config file over defaults.

The config file is TOML, at ``$WT_CONFIG`` or ``<user config dir>/window-terminal/config.toml``::

    database_url = "postgresql+psycopg://wt@db.hall.local/wt"
    hall = "jinjiang"
    language = "zh"          # zh | en
    announce_command = "espeak-ng -v zh {text}"
    cjk_font = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    voice_pack = "/srv/hall/voice"   # recorded segments for the hall TV (default: espeak-ng)
    session_idle_minutes = 30        # `wt login` ends after 30 idle minutes (default: end of the day)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

APP_NAME = "window-terminal"

ENV_KEYS = {
    "database_url": "WT_DATABASE_URL",
    "hall": "WT_HALL",
    "language": "WT_LANGUAGE",
    "announce_command": "WT_ANNOUNCE_COMMAND",
    "cjk_font": "WT_CJK_FONT",
    "drafts_dir": "WT_DRAFTS_DIR",
    "voice_pack": "WT_VOICE_PACK",
    "session_dir": "WT_SESSION_DIR",
    "session_idle_minutes": "WT_SESSION_IDLE_MINUTES",
    "backup_dir": "WT_BACKUP_DIR",
    "pgbackrest_stanza": "WT_PGBACKREST_STANZA",
    "pgbackrest_config": "WT_PGBACKREST_CONFIG",
}


class ConfigError(Exception):
    """A setting is wrong; the message names the setting and the fix."""


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(os.environ.get("WT_DATA_DIR") or user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    if os.environ.get("WT_CONFIG"):
        return Path(os.environ["WT_CONFIG"])
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'window-terminal.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    hall: str | None = None
    language: str = "zh"
    announce_command: str | None = None
    cjk_font: str | None = None
    drafts_dir: str | None = None
    voice_pack: str | None = None  # the hall TV's recorded call segments (a folder of WAV files)
    session_dir: str | None = None  # where `wt login` keeps this OS user's session
    session_idle_minutes: int | None = None  # sign out after this long idle (default: end of the day)
    backup_dir: str | None = None  # where `wt db backup` keeps the SQLite hall's copies (another disk!)
    pgbackrest_stanza: str = "wt"  # PostgreSQL: the pgBackRest stanza of the hall's cluster
    pgbackrest_config: str | None = None  # PostgreSQL: pgbackrest.conf (default: pgBackRest's own)
    extra: dict = field(default_factory=dict)

    @property
    def drafts_path(self) -> Path:
        return Path(self.drafts_dir) if self.drafts_dir else data_dir() / "drafts"

    @property
    def session_path(self) -> Path:
        return Path(self.session_dir) if self.session_dir else data_dir() / "session"

    @property
    def backup_path(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else data_dir() / "backups"

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def normalize_database_url(url: str) -> str:
    """Accept the URLs people type: ``postgresql://`` means psycopg 3, a bare path means SQLite."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def load_settings(**overrides: Any) -> Settings:
    """Build settings: defaults < config file < environment < explicit overrides (CLI flags)."""
    values: dict[str, Any] = {}  # from TOML and the environment: checked below
    path = config_path()
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from exc
        known = {f.name for f in fields(Settings)}
        for key, value in data.items():
            if key in known and key != "extra":
                values[key] = value
        values["extra"] = {k: v for k, v in data.items() if k not in known}
    for key, env in ENV_KEYS.items():
        if os.environ.get(env):
            values[key] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    if not settings.database_url:
        settings = replace(settings, database_url=default_database_url())
    settings = replace(settings, database_url=normalize_database_url(settings.database_url))
    idle = settings.session_idle_minutes
    if idle is not None:
        try:
            idle = int(idle)
        except (TypeError, ValueError):
            idle = 0
        if idle <= 0:
            raise ConfigError(
                f"session_idle_minutes must be a whole number of minutes above 0, not "
                f"{settings.session_idle_minutes!r} (WT_SESSION_IDLE_MINUTES or config)"
            )
        settings = replace(settings, session_idle_minutes=idle)
    if settings.language not in ("zh", "en"):
        raise ConfigError(f"language must be 'zh' or 'en', not {settings.language!r} (WT_LANGUAGE or config)")
    return settings
