"""Accounts and sign-in rules, without HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Table, case, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.audit import audit
from ..extensions import db
from ..models import LoginThrottle, User, utcnow
from ..passwords import burn_time, hash_password, needs_rehash, password_problem, verify_password
from .ratelimit import count_hit


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
    problem = password_problem(password, email=address)
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
    # The password was right but an operator suspended the account.
    suspended: bool = False


SUSPENDED = ("Ce compte est suspendu\u00a0: contactez l'opérateur de la plateforme "
             "pour le rétablir.")


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
    now = now or utcnow()
    attempts = _count_attempt(address, now, window_seconds)
    db.session.commit()
    if attempts > max_failures:
        burn_time(password, profile)
        return LoginResult(None, locked=True)

    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is not None and verify_password(user.password_hash, password, profile):
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == address))
        if user.suspended_at is not None:
            return LoginResult(None, suspended=True)
        if needs_rehash(user.password_hash, profile):
            user.password_hash = hash_password(password, profile)
        user.last_login_at = now
        return LoginResult(user)

    if user is None:
        burn_time(password, profile)
    return LoginResult(None)


def suspend_account(user: User, by: User | None) -> User:
    """An operator suspends an account: it cannot sign in, and its open sessions end
    at their next request (the session token changes). Audited; the caller commits."""
    if by is not None and by.id == user.id:
        raise AccountError("Vous ne pouvez pas suspendre votre propre compte.")
    if user.suspended_at is not None:
        raise AccountError(f"Le compte {user.email} est déjà suspendu.")
    user.suspended_at = utcnow()
    user.rotate_session_token()
    audit(None, by, "account.suspended", email=user.email)
    return user


def restore_account(user: User, by: User | None) -> User:
    """The account can sign in again (with its password; no session comes back)."""
    if user.suspended_at is None:
        raise AccountError(f"Le compte {user.email} n'est pas suspendu.")
    user.suspended_at = None
    audit(None, by, "account.restored", email=user.email)
    return user


def change_password(user: User, current: str, new: str, *, profile: str = "default") -> None:
    if not verify_password(user.password_hash, current, profile):
        raise AccountError("Le mot de passe actuel est incorrect.")
    problem = password_problem(new, email=user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new, profile)
    user.rotate_session_token()


def password_change_errors(user: User, current: str, new: str, *,
                           profile: str = "default") -> dict[str, str]:
    """Every problem of a password change at once, by field (empty: it can be done)."""
    errors = {}
    if not verify_password(user.password_hash, current or "", profile):
        errors["current_password"] = "Le mot de passe actuel est incorrect."
    problem = password_problem(new or "", email=user.email)
    if problem:
        errors["new_password"] = problem
    return errors


# --- password reset, e-mail change: links sent by e-mail (hiveo/auth/tokens.py) ---

RESET_LIFETIME = timedelta(hours=1)
EMAIL_CHANGE_LIFETIME = timedelta(hours=24)
RATE_WINDOW_SECONDS = 3600


class TooManyResetRequests(AccountError):
    """This client asked for too many reset links in the last hour."""


def request_password_reset(email: str, client_ip: str, *, max_per_ip: int,
                           max_per_address: int, base_url: str) -> None:
    """Send a reset link if an account has this address. Caller commits.

    The answer never says whether it does: an unknown address costs the same
    work (a token drawn and hashed, the message rendered), only the two rows
    are not written. Per IP, too many requests are refused (429); per address,
    the extra ones are silently not sent, so nobody can flood a mailbox.
    """
    from flask import render_template

    from ..mail.outbox import enqueue
    from ..models import TokenPurpose
    from . import tokens

    if count_hit(f"reset-ip:{client_ip}", RATE_WINDOW_SECONDS) > max_per_ip:
        raise TooManyResetRequests(
            "Trop de demandes de réinitialisation depuis votre connexion. "
            "Patientez une heure puis réessayez.")
    address = normalise_email(email)[:254]
    over_address_limit = count_hit(f"reset-email:{address}", RATE_WINDOW_SECONDS) > max_per_address
    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is None or over_address_limit:
        # The same work as below, minus the two rows.
        raw, _digest = tokens.draw()
        render_template("mail/password_reset.txt", email=address, base_url=base_url,
                        link=f"{base_url}/mot-de-passe-oublie/{raw}")
        return
    tokens.invalidate(TokenPurpose.PASSWORD_RESET, user_id=user.id)
    raw = tokens.issue(TokenPurpose.PASSWORD_RESET, user.email, RESET_LIFETIME, user_id=user.id)
    enqueue("password_reset", user.email, "Réinitialisation de votre mot de passe hiveo",
            "password_reset", email=user.email, link=f"{base_url}/mot-de-passe-oublie/{raw}")


def token_user(check) -> User | None:
    """The account a valid token was issued for, while it still has the token's address."""
    if not check.ok or check.found.user_id is None:
        return None
    user = db.session.get(User, check.found.user_id)
    if user is None or user.email != check.found.email:
        return None
    return user


def reset_password(raw: str, new_password: str, *, profile: str = "default") -> User:
    """Set a new password from a reset link; every session of the account ends. Caller commits."""
    from ..core.audit import audit
    from ..models import TokenPurpose
    from . import tokens

    check = tokens.check(TokenPurpose.PASSWORD_RESET, raw)
    user = token_user(check)
    if user is None:
        raise AccountError(link_problem_text(check))
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise AccountError(problem)
    if not tokens.consume(check.found):
        raise AccountError(link_problem_text(tokens.TokenCheck(check.token,
                                                                tokens.TokenProblem.USED)))
    user.password_hash = hash_password(new_password, profile)
    user.rotate_session_token()
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == user.email))
    audit(None, user, "account.password_reset")
    return user


def link_problem_text(check) -> str:
    """Why a link from an e-mail cannot be used, in French."""
    from .tokens import TokenProblem

    if check.problem == TokenProblem.USED:
        return "Ce lien a déjà servi : chaque lien envoyé par e-mail ne sert qu'une fois."
    if check.problem == TokenProblem.EXPIRED:
        return "Ce lien a expiré."
    return "Ce lien n'est pas valide : il est incomplet, a été modifié ou a été remplacé."


def change_name(user: User, name: str) -> None:
    name = (name or "").strip()
    if not name:
        raise AccountError("Le nom est obligatoire.")
    user.name = name[:120]


def set_digest(user: User, receive: bool) -> None:
    """Whether the user receives the weekly digest of suppliers that became non-compliant.

    Only the digest can be turned off: reminders about a company's own legal
    documents always leave (DOMAIN.md 6).
    """
    user.digest_opt_out = not receive


def request_email_change(user: User, new_email: str, password: str, *, base_url: str,
                         profile: str = "default") -> str:
    """Send a confirmation link to the new address; nothing changes until it is opened."""
    from ..mail.outbox import enqueue
    from ..models import TokenPurpose
    from . import tokens

    if not verify_password(user.password_hash, password, profile):
        raise AccountError("Le mot de passe actuel est incorrect.")
    address = check_email(new_email)
    if address == user.email:
        raise AccountError("C'est déjà l'adresse de votre compte.")
    tokens.invalidate(TokenPurpose.EMAIL_CHANGE, user_id=user.id)
    raw = tokens.issue(TokenPurpose.EMAIL_CHANGE, address, EMAIL_CHANGE_LIFETIME, user_id=user.id)
    # Whether the address is taken is said when the link is opened, to its owner only.
    enqueue("email_change", address, "Confirmez votre nouvelle adresse e-mail",
            "email_change", name=user.name, email=address,
            link=f"{base_url}/compte/adresse/{raw}")
    return address


def confirm_email_change(raw: str) -> User:
    """Apply an e-mail change from its link. Caller commits."""
    from ..core.audit import audit
    from ..models import TokenPurpose
    from . import tokens

    check = tokens.check(TokenPurpose.EMAIL_CHANGE, raw)
    if not check.ok:
        raise AccountError(link_problem_text(check))
    user = db.session.get(User, check.found.user_id)
    if user is None:
        raise AccountError(link_problem_text(tokens.TokenCheck(None,
                                                                tokens.TokenProblem.UNKNOWN)))
    address = check.found.email
    if db.session.scalar(select(User.id).where(User.email == address, User.id != user.id)):
        raise AccountError(f"Un autre compte utilise déjà l'adresse {address}.")
    if not tokens.consume(check.found):
        raise AccountError(link_problem_text(tokens.TokenCheck(check.token,
                                                                tokens.TokenProblem.USED)))
    previous = user.email
    user.email = address
    # Links sent to the old address must not work any more.
    tokens.invalidate(TokenPurpose.PASSWORD_RESET, user_id=user.id)
    audit(None, user, "account.email_changed", previous=previous, email=address)
    return user
