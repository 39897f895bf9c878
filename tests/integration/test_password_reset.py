"""Password reset, e-mail change and the account page, against a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.mail.outbox import wait_for_sends
from hiveo.models import AccountToken, OutboxMessage, User, utcnow
from tests.helpers import PASSWORD, fetch_csrf, login, page_text, post

NEW = "une toute nouvelle phrase"


@pytest.fixture
def app_overrides(mail_server):
    return {"SMTP_URL": mail_server.url, "BASE_URL": "http://portail.example"}


def ask_reset(app, client, email: str, ip: str = "10.0.0.1"):
    token = fetch_csrf(client, "/mot-de-passe-oublie")
    response = client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": ip})
    wait_for_sends(app)
    return response


def without_csrf(html: str) -> str:
    return re.sub(r'(name="csrf-token" content|name="csrf_token" value)="[^"]*"', r"\1=", html)


def reset_link(mail_server, email: str) -> str:
    [received] = mail_server.to(email)[-1:]
    [link] = [link for link in received.links() if "/mot-de-passe-oublie/" in link]
    return link.removeprefix("http://portail.example")


def test_the_sign_in_page_links_to_the_reset_page(client):
    assert "Mot de passe oublié ?" in page_text(client.get("/login"))
    assert "/mot-de-passe-oublie" in client.get("/login").get_data(as_text=True)


def test_known_and_unknown_addresses_get_the_same_answer_and_only_one_gets_mail(
        app, client, cast, mail_server):
    known = ask_reset(app, client, cast.alice)
    unknown = ask_reset(app, client, "personne@example.com")
    assert known.status_code == unknown.status_code == 200
    # The same page to the letter, but for the CSRF token, signed with the second it is sent.
    assert without_csrf(page_text(known)) == without_csrf(page_text(unknown))
    assert "Si un compte existe pour cette adresse" in page_text(known)
    [received] = mail_server.received
    assert received.recipients == [cast.alice]
    assert "Réinitialisation" in received.subject
    assert "http://portail.example/mot-de-passe-oublie/" in received.text
    with app.app_context():
        token = db.session.scalar(select(AccountToken))
        raw = reset_link(mail_server, cast.alice).rpartition("/")[2]
        assert len(raw) >= 43  # 256 bits, url-safe base64
        assert raw not in token.token_hash and len(token.token_hash) == 64


def test_a_reset_sets_the_password_signs_every_session_out_and_the_link_dies(
        app, client, cast, mail_server):
    elsewhere = app.test_client()
    login(elsewhere, cast.alice)
    ask_reset(app, client, cast.alice)
    link = reset_link(mail_server, cast.alice)
    form = client.get(link)
    assert form.status_code == 200 and "Choisissez un nouveau mot de passe" in page_text(form)
    token = fetch_csrf(client, link)
    response = client.post(link, data={"new_password": NEW, "confirm_password": NEW,
                                       "csrf_token": token})
    assert response.status_code == 303
    assert elsewhere.get("/organisations").status_code == 302  # signed out
    assert client.get("/organisations").status_code == 200  # signed in with the new one
    assert login(app.test_client(), cast.alice, NEW).status_code == 303
    assert login(app.test_client(), cast.alice, PASSWORD).status_code == 422
    again = app.test_client().get(link)
    assert again.status_code == 410 and "déjà servi" in page_text(again)


def test_a_new_password_breaking_the_rules_is_refused_and_the_link_still_works(
        app, client, cast, mail_server):
    ask_reset(app, client, cast.alice)
    link = reset_link(mail_server, cast.alice)
    token = fetch_csrf(client, link)
    for password, message in (("court", "12 caractères"), ("motdepasse123", "plus courants")):
        response = client.post(link, data={"new_password": password,
                                           "confirm_password": password, "csrf_token": token})
        assert response.status_code == 422 and message in page_text(response)
    mismatch = client.post(link, data={"new_password": NEW, "confirm_password": NEW + "x",
                                       "csrf_token": token})
    assert "ne correspondent pas" in page_text(mismatch)
    assert client.get(link).status_code == 200


def test_expired_tampered_and_superseded_links_get_a_clear_page(app, client, cast, mail_server):
    ask_reset(app, client, cast.alice)
    first = reset_link(mail_server, cast.alice)
    tampered = client.get(first[:-2] + ("aa" if not first.endswith("aa") else "bb"))
    assert tampered.status_code == 404 and "n'est pas valide" in page_text(tampered)
    ask_reset(app, client, cast.alice)
    second = reset_link(mail_server, cast.alice)
    assert second != first
    assert client.get(first).status_code == 410  # a new request replaces the old link
    with app.app_context():
        for token in db.session.scalars(select(AccountToken)):
            token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    expired = client.get(second)
    assert expired.status_code == 410 and "a expiré" in page_text(expired)
    assert client.post(second, data={"csrf_token": fetch_csrf(client, "/login"),
                                     "new_password": NEW, "confirm_password": NEW}
                       ).status_code == 410
    assert client.get("/mot-de-passe-oublie/" + "x" * 500).status_code == 404


def test_reset_requests_are_limited_per_address_and_per_ip(app, cast, mail_server):
    app.config.update(RESET_MAX_PER_ADDRESS=2, RESET_MAX_PER_IP=4)
    client = app.test_client()
    for _ in range(3):
        assert ask_reset(app, client, cast.alice, ip="10.0.0.2").status_code == 200
    assert len(mail_server.to(cast.alice)) == 2  # the third answer looks the same
    assert ask_reset(app, client, cast.bob, ip="10.0.0.2").status_code == 200
    refused = ask_reset(app, client, cast.bob, ip="10.0.0.2")
    assert refused.status_code == 429 and "Trop de demandes" in page_text(refused)
    assert ask_reset(app, client, cast.bob, ip="10.0.0.3").status_code == 200
    assert len(mail_server.to(cast.bob)) == 2


def test_the_counter_counts_every_hit_when_requests_come_at_once(app):
    import threading

    from hiveo.auth.ratelimit import count_hit

    seen = []

    def hit():
        with app.app_context():
            from hiveo.extensions import begin_write

            begin_write()
            seen.append(count_hit("reset-ip:race", 3600))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(seen) == list(range(1, 9))


def test_password_change_shows_every_fields_error_at_once(client, cast):
    login(client, cast.alice)
    response = post(client, "/compte", {"current_password": "faux", "new_password": "court",
                                        "confirm_password": "autre"}, page="/compte")
    text = page_text(response)
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in text
    assert "12 caractères" in text
    assert "ne correspondent pas" in text


def test_a_name_change_is_saved_and_an_empty_name_refused(app, client, cast):
    login(client, cast.alice)
    assert post(client, "/compte/nom", {"name": "  "}, page="/compte").status_code == 422
    assert post(client, "/compte/nom", {"name": "Alice Durand"}, page="/compte"
                ).status_code == 303
    assert "Alice Durand" in page_text(client.get("/compte"))


def test_an_email_change_takes_effect_only_when_the_new_address_confirms(
        app, client, cast, mail_server):
    login(client, cast.alice)
    wrong = post(client, "/compte/adresse", {"new_email": "alice@nouveau.example",
                                             "password": "faux"}, page="/compte")
    assert wrong.status_code == 422 and "incorrect" in page_text(wrong)
    response = post(client, "/compte/adresse", {"new_email": "alice@nouveau.example",
                                                "password": PASSWORD}, page="/compte")
    assert response.status_code == 303
    wait_for_sends(app)
    [received] = mail_server.to("alice@nouveau.example")
    link = next(link for link in received.links() if "/compte/adresse/" in link)
    link = link.removeprefix("http://portail.example")
    assert "Changement demandé vers alice@nouveau.example" in page_text(client.get("/compte"))
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.name == "Alice Admin")) == cast.alice
    assert client.get(link).status_code == 200  # a GET changes nothing
    confirm = client.post(link, data={"csrf_token": fetch_csrf(client, "/compte")})
    assert confirm.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.name == "Alice Admin")
                                 ) == "alice@nouveau.example"
    assert client.get(link).status_code == 410
    assert login(app.test_client(), "alice@nouveau.example").status_code == 303


def test_an_email_change_to_an_address_taken_meanwhile_is_refused_at_confirmation(
        app, client, cast, mail_server):
    login(client, cast.alice)
    post(client, "/compte/adresse", {"new_email": "prise@example.com", "password": PASSWORD},
         page="/compte")
    wait_for_sends(app)
    link = next(link for link in mail_server.to("prise@example.com")[0].links()
                if "/compte/adresse/" in link).removeprefix("http://portail.example")
    with app.app_context():
        from hiveo.demo.factories import make_user

        make_user("prise@example.com", profile="fast")
        db.session.commit()
    response = client.post(link, data={"csrf_token": fetch_csrf(client, "/compte")})
    assert response.status_code == 409 and "Un autre compte" in page_text(response)


@pytest.mark.parametrize(("who", "landing"), [
    ("olivia@example.com", "/operateur/validation"),
    ("alice@example.com", "/organisations/732829320"),
    ("multi@example.com", "/organisations"),
])
def test_each_person_lands_where_their_work_is(app, cast, who, landing):
    with app.app_context():
        from hiveo.demo.factories import make_user
        from hiveo.models import Company

        companies = list(db.session.scalars(select(Company)))
        make_user("multi@example.com", profile="fast",
                  memberships=tuple((company, "member") for company in companies))
        db.session.commit()
    client = app.test_client()
    assert login(client, who).headers["Location"] == landing
    assert client.get("/").headers["Location"] == landing


def test_signing_in_records_the_last_sign_in(app, client, cast):
    login(client, cast.bob)
    with app.app_context():
        assert db.session.scalar(select(User.last_login_at).where(User.email == cast.bob))
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
