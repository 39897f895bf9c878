"""Accounts and sign-in rules, without HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select

from ..extensions import db
from ..models import LoginThrottle, User, utcnow
from ..passwords import burn_time, hash_password, needs_rehash, password_problem, verify_password


class AccountError(ValueError):
    """A refusal whose message is meant for a person (French)."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    address = normalise_email(email)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError(f"L'adresse e-mail « {address} » n'est pas valide.") from None
    return address


def create_user(
    email: str,
    password: str,
    *,
    name: str = "",
    is_operator: bool = False,
    profile: str = "default",
) -> User:
    address = check_email(email)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AccountError(f"Un compte existe déjà pour {address}.")
    user = User(
        email=address,
        name=(name or address.split("@")[0]).strip()[:120],
        password_hash=hash_password(password, profile),
        is_operator=is_operator,
    )
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    locked: bool = False


def _throttle_row(address: str) -> LoginThrottle | None:
    return db.session.get(LoginThrottle, address)


def is_locked(row: LoginThrottle | None, now: datetime, max_failures: int, window: int) -> bool:
    return (
        row is not None
        and row.failures >= max_failures
        and now - row.window_started_at <= timedelta(seconds=window)
    )


def authenticate(
    email: str,
    password: str,
    *,
    max_failures: int,
    window_seconds: int,
    profile: str = "default",
    now: datetime | None = None,
) -> LoginResult:
    """Check a password, counting failures per address. Caller commits."""
    address = normalise_email(email)
    now = now or utcnow()
    row = _throttle_row(address)
    if is_locked(row, now, max_failures, window_seconds):
        burn_time(password, profile)
        return LoginResult(None, locked=True)

    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is not None and verify_password(user.password_hash, password, profile):
        if row is not None:
            db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == address))
        if needs_rehash(user.password_hash, profile):
            user.password_hash = hash_password(password, profile)
        return LoginResult(user)

    if user is None:
        burn_time(password, profile)
    if row is None:
        db.session.add(LoginThrottle(email=address[:254], failures=1, window_started_at=now))
    elif now - row.window_started_at > timedelta(seconds=window_seconds):
        row.failures = 1
        row.window_started_at = now
    else:
        row.failures += 1
    return LoginResult(None)


def change_password(user: User, current: str, new: str, *, profile: str = "default") -> None:
    if not verify_password(user.password_hash, current, profile):
        raise AccountError("Le mot de passe actuel est incorrect.")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new, profile)
    user.rotate_session_token()
