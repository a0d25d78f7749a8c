"""Configuration from environment variables with safe defaults.

Development needs no setup: an SQLite file and a generated secret key live under
``instance/``. Production (``HELPDESK_ENV=production``) refuses to start without
an explicit secret key, because a generated one would log everyone out on every
host and every restart.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpdesk.tickets.priority import DEFAULT_MATRIX, PriorityMatrix, parse_matrix

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment describes a configuration we must not start with."""


def _instance_dir() -> Path:
    return Path(os.environ.get("HELPDESK_INSTANCE_DIR", PROJECT_ROOT / "instance")).resolve()


def _secret_key(instance: Path, production: bool) -> str:
    key = os.environ.get("HELPDESK_SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("HELPDESK_SECRET_KEY must be set when HELPDESK_ENV=production")
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def whole_number(name: str, default: int) -> int:
    """The environment's whole number ``name``, or ``default``; ConfigError says what is wrong."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def positive_seconds(name: str, default: float) -> float:
    """The environment's number of seconds ``name`` (more than 0), or ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


@dataclass
class MailSettings:
    """Mail in and out. With no SMTP host the outbox only fills (the embedded default)."""

    domain: str = "helpdesk.localhost"  # in our Message-IDs and the default sender address
    sender: str = "helpdesk@helpdesk.localhost"  # From: of every mail we send
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    unknown_senders: str = "allow"  # or "instruct": answer with how to get an account
    max_message_bytes: int = 25 * 1024 * 1024
    sender_limit_per_hour: int = 30  # more mail than this from one address is a loop

    @classmethod
    def from_environment(cls) -> MailSettings:
        domain = os.environ.get("HELPDESK_MAIL_DOMAIN", "helpdesk.localhost")
        unknown = os.environ.get("HELPDESK_MAIL_UNKNOWN_SENDERS", "allow")
        if unknown not in ("allow", "instruct"):
            raise ConfigError(f"HELPDESK_MAIL_UNKNOWN_SENDERS must be allow or instruct, got {unknown!r}")
        return cls(
            domain=domain,
            sender=os.environ.get("HELPDESK_MAIL_FROM", f"helpdesk@{domain}"),
            smtp_host=os.environ.get("HELPDESK_SMTP_HOST", ""),
            smtp_port=whole_number("HELPDESK_SMTP_PORT", 25),
            smtp_user=os.environ.get("HELPDESK_SMTP_USER", ""),
            smtp_password=os.environ.get("HELPDESK_SMTP_PASSWORD", ""),
            smtp_starttls=os.environ.get("HELPDESK_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            unknown_senders=unknown,
            max_message_bytes=whole_number("HELPDESK_MAIL_MAX_MB", 25) * 1024 * 1024,
            sender_limit_per_hour=whole_number("HELPDESK_MAIL_SENDER_LIMIT_PER_HOUR", 30),
        )


def _base_url(production: bool) -> str:
    # In development the app runs where `make run` puts it; a production site must say
    # where it is, or its mails carry no links rather than links to a wrong place.
    url = os.environ.get("HELPDESK_BASE_URL", "" if production else "http://127.0.0.1:5000")
    url = url.strip().rstrip("/")
    if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ConfigError(f"HELPDESK_BASE_URL must be an http(s) address, got {url!r}")
    return url


@dataclass
class Settings:
    """Everything the app reads from the environment, in one place."""

    env: str = "development"
    instance_dir: Path = field(default_factory=_instance_dir)
    database_url: str = ""
    secret_key: str = ""
    reopen_days: int = 14
    autoclose_days: int = 7
    max_attachment_bytes: int = 10 * 1024 * 1024
    priority_matrix: PriorityMatrix = DEFAULT_MATRIX
    default_locale: str = "sv"
    reference_prefix: str = "HD"
    # Where people reach the web app; mails link to tickets under it (none when empty).
    base_url: str = "http://127.0.0.1:5000"
    mail: MailSettings = field(default_factory=lambda: MailSettings())

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ.get("HELPDESK_ENV", "development")
        instance = _instance_dir()
        production = env == "production"
        database_url = os.environ.get("HELPDESK_DATABASE_URL") or (
            f"sqlite:///{instance / 'helpdesk.sqlite3'}"
        )
        matrix_text = os.environ.get("HELPDESK_PRIORITY_MATRIX")
        return cls(
            env=env,
            instance_dir=instance,
            database_url=database_url,
            secret_key=_secret_key(instance, production),
            reopen_days=whole_number("HELPDESK_REOPEN_DAYS", 14),
            autoclose_days=whole_number("HELPDESK_AUTOCLOSE_DAYS", 7),
            max_attachment_bytes=whole_number("HELPDESK_MAX_ATTACHMENT_MB", 10) * 1024 * 1024,
            priority_matrix=parse_matrix(matrix_text) if matrix_text else DEFAULT_MATRIX,
            default_locale=os.environ.get("HELPDESK_DEFAULT_LOCALE", "sv"),
            reference_prefix=os.environ.get("HELPDESK_REFERENCE_PREFIX", "HD"),
            base_url=_base_url(production),
            mail=MailSettings.from_environment(),
        )

    def flask_config(self) -> dict[str, Any]:
        production = self.env == "production"
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            # Form posts carry attachments; leave room above the per-file limit for the rest.
            "MAX_CONTENT_LENGTH": self.max_attachment_bytes + 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": production,
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
            "HELPDESK": self,
        }
