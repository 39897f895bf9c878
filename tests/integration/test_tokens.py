"""The one module for e-mailed secrets: hashed, bound to a purpose, expiring, single-use."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hiveo.auth import tokens
from hiveo.extensions import db
from hiveo.models import AccountToken, TokenPurpose, utcnow


def test_a_token_is_stored_as_its_hash_and_checks_only_for_its_purpose(app):
    with app.app_context():
        raw = tokens.issue(TokenPurpose.PASSWORD_RESET, "a@example.com", timedelta(hours=1))
        db.session.commit()
        stored = db.session.scalar(select(AccountToken))
        assert stored.token_hash != raw and raw not in stored.token_hash
        assert tokens.check(TokenPurpose.PASSWORD_RESET, raw).ok
        assert tokens.check(TokenPurpose.INVITATION, raw).problem == tokens.TokenProblem.UNKNOWN
        assert tokens.check(TokenPurpose.EMAIL_CHANGE, raw).problem == "unknown"
        assert tokens.check(TokenPurpose.PASSWORD_RESET, raw + "x").problem == "unknown"
        assert tokens.check(TokenPurpose.PASSWORD_RESET, "").problem == "unknown"


def test_a_token_is_used_once_even_by_two_requests_at_once(app):
    with app.app_context():
        raw = tokens.issue(TokenPurpose.INVITATION, "a@example.com", timedelta(days=7))
        db.session.commit()
        check = tokens.check(TokenPurpose.INVITATION, raw)
        other = tokens.check(TokenPurpose.INVITATION, raw)
        assert tokens.consume(check.token)
        assert not tokens.consume(other.token)  # the second one loses
        db.session.commit()
        assert tokens.check(TokenPurpose.INVITATION, raw).problem == "used"


def test_a_token_expires(app):
    with app.app_context():
        raw = tokens.issue(TokenPurpose.PASSWORD_RESET, "a@example.com", timedelta(hours=1))
        db.session.commit()
        later = utcnow() + timedelta(hours=1, seconds=1)
        assert tokens.check(TokenPurpose.PASSWORD_RESET, raw, now=later).problem == "expired"


def test_two_tokens_never_look_alike(app):
    with app.app_context():
        drawn = {tokens.draw()[0] for _ in range(200)}
    assert len(drawn) == 200 and min(len(raw) for raw in drawn) >= 43
