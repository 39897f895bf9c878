"""What the operators' pages read (their changes go through organisations, members, auth)."""

from __future__ import annotations

import math

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Membership, User
from ..organisations.services import Page, like_escape


def accounts_page(*, query: str = "", page: int = 1, per_page: int = 50) -> Page:
    """One page of accounts (by e-mail or name), with their company count: two statements."""
    text = (query or "").strip()[:100]
    where = []
    if text:
        pattern = f"%{like_escape(text.lower())}%"
        where.append(or_(func.lower(User.email).like(pattern, escape="\\"),
                         func.lower(User.name).like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count(User.id)).where(*where)) or 0
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    companies = (select(func.count(Membership.id)).where(Membership.user_id == User.id)
                 .correlate(User).scalar_subquery())
    rows = db.session.execute(
        select(User.id, User.email, User.name, User.is_operator, User.suspended_at,
               User.last_login_at, companies.label("companies"))
        .where(*where).order_by(User.email).limit(per_page)
        .offset((page - 1) * per_page)).all()
    return Page(rows, total, page, per_page, text)
