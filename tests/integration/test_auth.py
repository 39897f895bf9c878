"""Login, logout, sessions, CSRF, throttling and headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hiveo.auth.services import authenticate
from hiveo.extensions import db
from hiveo.models import LoginThrottle, User, utcnow
from tests.conftest import running_app
from tests.helpers import PASSWORD, fetch_csrf, login, post


def test_login_page_has_labelled_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Adresse e-mail" in html
    assert "Mot de passe" in html
    assert "Se connecter" in html


def test_it_logs_in_and_shows_organisations(client, cast):
    response = login(client, cast.alice)
    assert response.status_code == 303
    # Alice belongs to one company: she lands on its page.
    assert response.headers["Location"].endswith("/organisations/732829320")
    page = client.get("/organisations").get_data(as_text=True)
    assert "Acme Nettoyage" in page
    assert "Menu du profil" in page


def test_wrong_password_and_unknown_email_get_the_same_answer(client, cast):
    wrong = login(client, cast.alice, "not the password")
    unknown = login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 422
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_it_redirects_only_to_local_next(client, cast):
    token = fetch_csrf(client)
    for target, expected in [
        ("/organisations/732829320", "/organisations/732829320"),
        ("https://evil.example/x", "/organisations/732829320"),
        ("//evil.example/x", "/organisations/732829320"),
        ("/\\evil.example", "/organisations/732829320"),
    ]:
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": cast.alice, "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == expected
        post(client, "/logout")
        token = fetch_csrf(client)


def test_session_changes_at_login(client, cast):
    client.get("/login")
    before = client.get_cookie("hiveo_session")
    login(client, cast.alice)
    after = client.get_cookie("hiveo_session")
    assert before is not None and after is not None
    assert before.value != after.value


def test_logout_is_a_post_and_kills_copied_cookies(app, client, cast):
    login(client, cast.alice)
    stolen = client.get_cookie("hiveo_session").value
    assert client.get("/logout").status_code == 405
    response = post(client, "/logout")
    assert response.status_code == 303
    thief = app.test_client()
    thief.set_cookie("hiveo_session", stolen)
    response = thief.get("/organisations")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logout_via_htmx_answers_hx_redirect(client, cast):
    login(client, cast.alice)
    response = post(client, "/logout", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"


def test_password_change_revokes_other_sessions_but_keeps_this_one(app, client, cast):
    login(client, cast.alice)
    other = app.test_client()
    login(other, cast.alice)
    response = post(
        client,
        "/compte",
        {
            "current_password": PASSWORD,
            "new_password": "un nouveau mot de passe",
            "confirm_password": "un nouveau mot de passe",
        },
        page="/compte",
    )
    assert response.status_code == 303
    assert client.get("/organisations").status_code == 200
    assert other.get("/organisations").status_code == 302
    fresh = app.test_client()
    assert login(fresh, cast.alice, "un nouveau mot de passe").status_code == 303


def test_password_change_refuses_wrong_current_password(client, cast):
    login(client, cast.alice)
    response = post(
        client,
        "/compte",
        {"current_password": "wrong", "new_password": "x" * 12, "confirm_password": "x" * 12},
        page="/compte",
    )
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, cast):
    login(client, cast.alice)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "formulaire a expiré" in response.get_data(as_text=True)
    assert client.get("/organisations").status_code == 200


def test_login_without_csrf_token_is_refused(client, cast):
    response = client.post("/login", data={"email": cast.alice, "password": PASSWORD})
    assert response.status_code == 400


def test_csrf_token_from_another_session_is_refused(app, client, cast):
    other = app.test_client()
    foreign_token = fetch_csrf(other)
    login(client, cast.alice)
    response = client.post("/logout", data={"csrf_token": foreign_token})
    assert response.status_code == 400


def test_htmx_requests_may_send_the_token_in_a_header(client, cast):
    login(client, cast.alice)
    token = fetch_csrf(client, "/organisations")
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 204


def test_sixth_wrong_password_in_a_minute_is_refused(client, cast):
    for _ in range(5):
        assert login(client, cast.alice, "wrong password").status_code == 422
    locked = login(client, cast.alice, PASSWORD)
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.get_data(as_text=True)


def test_lockout_looks_the_same_for_unknown_addresses(client, cast):
    for _ in range(5):
        login(client, "ghost@example.com", "wrong password")
    assert login(client, "ghost@example.com", "wrong password").status_code == 429


def test_a_success_resets_the_failure_counter(client, cast):
    for _ in range(4):
        login(client, cast.alice, "wrong password")
    assert login(client, cast.alice).status_code == 303
    post(client, "/logout")
    for _ in range(4):
        assert login(client, cast.alice, "wrong password").status_code == 422
    assert login(client, cast.alice).status_code == 303


def test_login_is_throttled_per_ip(app, cast):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    statuses = [login(client, f"user{i}@example.com", "x").status_code for i in range(4)]
    assert statuses[:3] == [422, 422, 422]
    assert statuses[3] == 429


def test_security_headers_on_pages_errors_and_static(client, cast):
    for path in ["/login", "/nowhere", "/static/css/app.css"]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "object-src 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()


HSTS = "max-age=31536000; includeSubDomains"


def test_https_responses_tell_the_browser_to_stay_on_https(client, cast):
    for path in ["/login", "/nowhere", "/static/css/app.css"]:
        response = client.get(path, base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == HSTS, path
        response.close()


def test_plain_http_responses_carry_no_hsts(client, cast):
    # Over plain HTTP the header means nothing (RFC 6797 8.1) and would lie.
    for path in ["/login", "/nowhere"]:
        response = client.get(path, headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in response.headers, path


def test_behind_a_trusted_proxy_hsts_follows_the_forwarded_scheme(backend, tmp_path):
    with running_app(backend, tmp_path / "proxied", TRUSTED_PROXIES=1) as proxied:
        client = proxied.test_client()
        https = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert https.headers["Strict-Transport-Security"] == HSTS
        http = client.get("/login", headers={"X-Forwarded-Proto": "http"})
        assert "Strict-Transport-Security" not in http.headers


def test_session_cookie_flags(app, cast):
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    token = fetch_csrf(client)
    # Over HTTPS, Flask-WTF also wants a same-site Referer, as a browser sends.
    response = client.post(
        "/login", data={"email": cast.alice, "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost", headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_pages_that_need_login_redirect_anonymous_users(client, cast):
    response = client.get("/organisations")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_htmx_requests_from_anonymous_users_get_401_and_hx_redirect(client, cast):
    response = client.get("/organisations", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_error_pages_are_in_french_without_internals(client, cast):
    response = client.get("/nowhere")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page introuvable" in html
    assert not re.search(r"Traceback|werkzeug|sqlalchemy", html, re.I)


def test_passwords_are_stored_as_argon2id(app, cast):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == cast.alice))
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


# ----------------------------------------------------- the lock-out window, on a clock

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WINDOW = 900  # the default, 15 minutes


def attempt(email: str, password: str, at: datetime):
    """One sign-in at the instant `at`, as the view does it (committed)."""
    result = authenticate(email, password, max_failures=5, window_seconds=WINDOW,
                          profile="fast", now=at)
    db.session.commit()
    return result


def throttle(email: str) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.get(LoginThrottle, email)


def test_a_lock_out_ends_when_its_fifteen_minutes_are_over(app, cast):
    with app.app_context():
        for second in range(5):
            assert not attempt(cast.alice, "wrong", T0 + timedelta(seconds=second)).locked
        # Locked for the rest of the window, the right password included.
        for moment in (T0 + timedelta(seconds=5), T0 + timedelta(seconds=WINDOW)):
            result = attempt(cast.alice, PASSWORD, moment)
            assert result.locked and result.user is None
        # Every attempt counts, the refused ones too (counted before any check).
        assert throttle(cast.alice).failures == 7
        # A second after the window: the lock is over and the right password works.
        result = attempt(cast.alice, PASSWORD, T0 + timedelta(seconds=WINDOW + 1))
        assert not result.locked and result.user.email == cast.alice
        assert throttle(cast.alice) is None


def test_after_the_window_a_wrong_password_starts_a_new_count(app, cast):
    with app.app_context():
        for _ in range(5):
            attempt("ghost@example.com", "wrong", T0)
        later = T0 + timedelta(seconds=WINDOW + 1)
        result = attempt("ghost@example.com", "wrong", later)
        assert not result.locked
        row = throttle("ghost@example.com")
        assert (row.failures, row.window_started_at) == (1, later)


def test_failures_spread_over_more_than_the_window_never_lock(app, cast):
    with app.app_context():
        for _ in range(4):
            attempt(cast.alice, "wrong", T0)
        moment = T0 + timedelta(seconds=WINDOW + 1)
        for step in range(4):
            assert not attempt(cast.alice, "wrong", moment + timedelta(seconds=step)).locked
        assert throttle(cast.alice).failures == 4
        assert attempt(cast.alice, PASSWORD, moment + timedelta(seconds=5)).user is not None


def test_a_success_deletes_the_failure_count(app, cast):
    with app.app_context():
        for _ in range(4):
            attempt(cast.alice, "wrong", T0)
        assert throttle(cast.alice).failures == 4
        assert attempt(cast.alice, PASSWORD, T0).user is not None
        assert throttle(cast.alice) is None
        for _ in range(4):
            assert not attempt(cast.alice, "wrong", T0).locked
        assert throttle(cast.alice).failures == 4


def test_the_sign_in_page_lets_a_locked_address_in_once_the_window_is_over(app, client, cast):
    for _ in range(5):
        login(client, cast.alice, "wrong password")
    assert login(client, cast.alice).status_code == 429
    with app.app_context():
        # The lock started WINDOW + 1 seconds ago (the view's clock is the real one).
        row = throttle(cast.alice)
        row.window_started_at = utcnow() - timedelta(seconds=WINDOW + 1)
        db.session.commit()
    assert login(client, cast.alice).status_code == 303
