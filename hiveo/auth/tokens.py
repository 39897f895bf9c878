"""The secrets sent by e-mail: password reset, invitation, e-mail change. One door for them.

A token is 256 random bits, sent once in a link and stored as its SHA-256
only: a copy of the database opens nothing. It is bound to its purpose and to
the address it was sent to, expires, and is used at most once (an atomic
UPDATE ... WHERE used_at IS NULL decides between two clicks at once).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import AccountToken, TokenPurpose, utcnow


class TokenProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def draw() -> tuple[str, str]:
    """A fresh secret and its digest."""
    raw = secrets.token_urlsafe(32)
    return raw, _digest(raw)


def issue(purpose: TokenPurpose, email: str, lifetime: timedelta, *, user_id: int | None = None,
          invitation_id: int | None = None, now: datetime | None = None) -> str:
    """A new token in the caller's transaction; returns the secret for the link, once."""
    raw, digest = draw()
    now = now or utcnow()
    db.session.add(AccountToken(purpose=purpose.value, token_hash=digest, email=email,
                                user_id=user_id, invitation_id=invitation_id, created_at=now,
                                expires_at=now + lifetime))
    return raw


@dataclass(frozen=True)
class TokenCheck:
    token: AccountToken | None
    problem: TokenProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def found(self) -> AccountToken:
        """The token a check found (a used or expired one included); only after a lookup hit."""
        if self.token is None:
            raise LookupError("no token was found for this link")
        return self.token


def check(purpose: TokenPurpose, raw: str, *, now: datetime | None = None) -> TokenCheck:
    """What the link's token is worth, without using it."""
    if not raw or len(raw) > 128:
        return TokenCheck(None, TokenProblem.UNKNOWN)
    digest = _digest(raw)
    token = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == digest))
    # The lookup is by digest; the comparison still runs in constant time.
    if (token is None or not hmac.compare_digest(token.token_hash, digest)
            or token.purpose != purpose.value):
        return TokenCheck(None, TokenProblem.UNKNOWN)
    if token.used_at is not None:
        return TokenCheck(token, TokenProblem.USED)
    if token.expires_at <= (now or utcnow()):
        return TokenCheck(token, TokenProblem.EXPIRED)
    return TokenCheck(token, None)


def consume(token: AccountToken, *, now: datetime | None = None) -> bool:
    """Mark the token used; False when another request used it first."""
    result = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def invalidate(purpose: TokenPurpose, *, user_id: int | None = None,
               invitation_id: int | None = None, now: datetime | None = None) -> None:
    """Use up every live token of a user (or an invitation) for `purpose`."""
    statement = update(AccountToken).where(AccountToken.purpose == purpose.value,
                                           AccountToken.used_at.is_(None))
    if user_id is not None:
        statement = statement.where(AccountToken.user_id == user_id)
    if invitation_id is not None:
        statement = statement.where(AccountToken.invitation_id == invitation_id)
    db.session.execute(statement.values(used_at=now or utcnow())
                       .execution_options(synchronize_session=False))


def pending_email_change(user_id: int) -> str | None:
    """The new address a user asked for and has not confirmed yet, if any."""
    return db.session.scalar(
        select(AccountToken.email).where(
            AccountToken.purpose == TokenPurpose.EMAIL_CHANGE.value,
            AccountToken.user_id == user_id, AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow())
        .order_by(AccountToken.id.desc()).limit(1))
