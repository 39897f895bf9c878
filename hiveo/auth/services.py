"""Accounts and sign-in rules, without HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Table, case, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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


def _count_attempt(address: str, now: datetime, window_seconds: int) -> int:
    """Count one sign-in attempt for `address`, atomically; the attempts in its window.

    One statement does the read and the write (an upsert that returns the new
    count), so that parallel attempts cannot all read the same count and each
    pass: on PostgreSQL the row is locked by the statement, on SQLite the
    writer's lock is held. The window starts at the first attempt after the
    last success and is not extended by later ones.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = LoginThrottle.__table__
    assert isinstance(table, Table)
    started = table.c.window_started_at
    expired = started < now - timedelta(seconds=window_seconds)
    upsert = insert(table).values(email=address, failures=1, window_started_at=now)
    statement = upsert.on_conflict_do_update(
        index_elements=[table.c.email],
        set_={
            "failures": case((expired, 1), else_=table.c.failures + 1),
            "window_started_at": case((expired, literal(now, started.type)), else_=started),
        },
    ).returning(table.c.failures)
    return db.session.execute(statement).scalar_one()


def authenticate(
    email: str,
    password: str,
    *,
    max_failures: int,
    window_seconds: int,
    profile: str = "default",
    now: datetime | None = None,
) -> LoginResult:
    """Check a password, at most `max_failures` times per address and window.

    The attempt is counted before the password is checked, and committed at
    once: parallel attempts for one address then see each other's count (the
    ones beyond the limit are refused without a check) and do not wait for
    each other's password hash. A success resets the count; the caller
    commits that.
    """
    address = normalise_email(email)[:254]
    attempts = _count_attempt(address, now or utcnow(), window_seconds)
    db.session.commit()
    if attempts > max_failures:
        burn_time(password, profile)
        return LoginResult(None, locked=True)

    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is not None and verify_password(user.password_hash, password, profile):
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == address))
        if needs_rehash(user.password_hash, profile):
            user.password_hash = hash_password(password, profile)
        return LoginResult(user)

    if user is None:
        burn_time(password, profile)
    return LoginResult(None)


def change_password(user: User, current: str, new: str, *, profile: str = "default") -> None:
    if not verify_password(user.password_hash, current, profile):
        raise AccountError("Le mot de passe actuel est incorrect.")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new, profile)
    user.rotate_session_token()
