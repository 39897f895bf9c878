"""Settings, all from HIVEO_* environment variables, in one documented place.

The README's configuration table lists the same variables; keep both in step.
`load_settings()` turns an environment into Flask config keys. Bad values
stop the start-up with a message that names the variable, rather than
running half-configured.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

_TRUE = {"1", "true", "yes", "on", "oui"}
_FALSE = {"0", "false", "no", "off", "non", ""}


class ConfigError(RuntimeError):
    """A HIVEO_* variable holds a value the portal cannot use."""


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false), not {raw!r}")


def env_int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(environ: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_str(environ: Mapping[str, str], name: str, default: str = "") -> str:
    return environ.get(name, default).strip()


def _secret_key(instance_dir: Path) -> str:
    """Generate the key once and keep it beside the database, readable only by us."""
    path = instance_dir / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    instance_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _smtp_url(environ: Mapping[str, str]) -> str:
    """Empty (keep messages in the outbox), smtp://... (STARTTLS) or smtps://... (TLS)."""
    from urllib.parse import parse_qs, urlsplit

    url = env_str(environ, "HIVEO_SMTP_URL")
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("HIVEO_SMTP_URL must be smtp://[user:password@]host[:port] or "
                          f"smtps://..., not {parts.scheme or url!r}:...")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ConfigError("HIVEO_SMTP_URL has a port that is not a number") from None
    starttls = parse_qs(parts.query).get("starttls", ["yes"])[0]
    if starttls not in ("yes", "no"):
        raise ConfigError("HIVEO_SMTP_URL: ?starttls= must be yes or no")
    if starttls == "no" and parts.username:
        raise ConfigError("HIVEO_SMTP_URL: a password is never sent without TLS "
                          "(remove ?starttls=no or the credentials)")
    return url


def default_instance_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "instance"


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Flask config keys for the given environment (os.environ by default)."""
    env = os.environ if environ is None else environ
    instance_dir = Path(env_str(env, "HIVEO_INSTANCE_DIR") or default_instance_dir()).resolve()

    database_url = env_str(env, "HIVEO_DATABASE_URL") or f"sqlite:///{instance_dir / 'hiveo.db'}"
    if database_url.startswith("postgres://"):
        # Heroku-style URLs; SQLAlchemy wants an explicit dialect and we use psycopg 3.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if not database_url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError(
            "HIVEO_DATABASE_URL must be sqlite:///PATH or postgresql+psycopg://..., "
            f"not {database_url.split(':', 1)[0]}:..."
        )

    secret_key = env_str(env, "HIVEO_SECRET_KEY") or _secret_key(instance_dir)
    max_upload_mb = env_int(env, "HIVEO_MAX_UPLOAD_MB", 10, minimum=1)

    return {
        "INSTANCE_DIR": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLITE_BUSY_TIMEOUT_MS": env_int(env, "HIVEO_SQLITE_BUSY_TIMEOUT_MS", 15000, minimum=0),
        "SECRET_KEY": secret_key,
        "STORAGE_DIR": str(
            Path(env_str(env, "HIVEO_STORAGE_DIR") or instance_dir / "storage").resolve()
        ),
        "SESSION_COOKIE_SECURE": env_bool(env, "HIVEO_SESSION_COOKIE_SECURE", True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "hiveo_session",
        "PERMANENT_SESSION_LIFETIME": env_int(env, "HIVEO_SESSION_HOURS", 12, minimum=1) * 3600,
        # A session lasts HIVEO_SESSION_HOURS from sign-in; re-signing the cookie on
        # every page would cost each request a Set-Cookie for no security gain.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "RATELIMIT_STORAGE_URI": env_str(env, "HIVEO_RATELIMIT_STORAGE_URL") or "memory://",
        "LOGIN_RATE_LIMIT": env_str(env, "HIVEO_LOGIN_RATE_LIMIT") or "30 per minute",
        "LOGIN_MAX_FAILURES": env_int(env, "HIVEO_LOGIN_MAX_FAILURES", 5, minimum=1),
        "LOGIN_FAILURE_WINDOW_SECONDS": env_int(env, "HIVEO_LOGIN_FAILURE_WINDOW", 900, minimum=1),
        "TRUSTED_PROXIES": env_int(env, "HIVEO_TRUSTED_PROXIES", 0),
        "MAX_UPLOAD_MB": max_upload_mb,
        # Werkzeug refuses a larger body (413) before the view reads it; the
        # margin covers the multipart envelope and the other form fields.
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 + 64 * 1024,
        "AUTO_VALIDATE": env_bool(env, "HIVEO_AUTO_VALIDATE", False),
        "ATTESTATION_LEGALE_URL": env_str(env, "HIVEO_ATTESTATION_LEGALE_URL").rstrip("/"),
        "ATTESTATION_LEGALE_TOKEN": env_str(env, "HIVEO_ATTESTATION_LEGALE_TOKEN"),
        "ACTRADIS_URL": env_str(env, "HIVEO_ACTRADIS_URL").rstrip("/"),
        "ACTRADIS_API_KEY": env_str(env, "HIVEO_ACTRADIS_API_KEY"),
        "PROVIDER_TIMEOUT": env_float(env, "HIVEO_PROVIDER_TIMEOUT", 10.0, minimum=0.1),
        "PROVIDER_RETRY_AFTER_MAX": env_float(env, "HIVEO_PROVIDER_RETRY_AFTER_MAX", 5.0),
        "PROVIDER_DEADLINE": env_float(env, "HIVEO_PROVIDER_DEADLINE", 60.0, minimum=0.1),
        "PROVIDER_MAX_JSON_MB": env_float(env, "HIVEO_PROVIDER_MAX_JSON_MB", 20.0, minimum=0.001),
        "PROVIDER_MAX_FILE_MB": env_float(env, "HIVEO_PROVIDER_MAX_FILE_MB", 50.0, minimum=0.001),
        "SYNC_REACTIVATION_DEADLINE": env_float(env, "HIVEO_SYNC_REACTIVATION_DEADLINE", 25.0,
                                                minimum=1.0),
        # Each uploaded PDF is checked in a child process under these limits.
        "PDF_CHECK_TIMEOUT": env_float(env, "HIVEO_PDF_CHECK_TIMEOUT", 20.0, minimum=1.0),
        "PDF_CHECK_MEMORY_MB": env_int(env, "HIVEO_PDF_CHECK_MEMORY_MB", 512, minimum=128),
        "ESTABLISHMENTS_PER_PAGE": env_int(env, "HIVEO_ESTABLISHMENTS_PER_PAGE", 50, minimum=5),
        "SUPPLIERS_PER_PAGE": env_int(env, "HIVEO_SUPPLIERS_PER_PAGE", 50, minimum=5),
        # E-mail (hiveo/mail): empty SMTP_URL keeps every message in the outbox.
        "SMTP_URL": _smtp_url(env),
        "SMTP_TIMEOUT": env_float(env, "HIVEO_SMTP_TIMEOUT", 10.0, minimum=0.1),
        "MAIL_FROM": env_str(env, "HIVEO_MAIL_FROM") or "hiveo <no-reply@hiveo.invalid>",
        "MAIL_MAX_ATTEMPTS": env_int(env, "HIVEO_MAIL_MAX_ATTEMPTS", 5, minimum=1),
        "MAIL_RETRY_SECONDS": env_int(env, "HIVEO_MAIL_RETRY_SECONDS", 60, minimum=1),
        "BASE_URL": (env_str(env, "HIVEO_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "INVITATION_DAYS": env_int(env, "HIVEO_INVITATION_DAYS", 7, minimum=1),
        "RESET_MAX_PER_IP": env_int(env, "HIVEO_RESET_MAX_PER_IP", 10, minimum=1),
        "RESET_MAX_PER_ADDRESS": env_int(env, "HIVEO_RESET_MAX_PER_ADDRESS", 3, minimum=1),
        # The demo's "Courriels envoyés" page: never on unless the demo asks for it.
        "DEMO_MAILBOX": env_bool(env, "HIVEO_DEMO_MAILBOX", False),
        "ARGON2_PROFILE": "default",
        "WTF_CSRF_TIME_LIMIT": None,
    }
