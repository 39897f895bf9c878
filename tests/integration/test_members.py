"""Members of a company and invitations by e-mail, against a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.mail.outbox import wait_for_sends
from hiveo.models import AuditEvent, Invitation, Membership, User, utcnow
from tests.helpers import fetch_csrf, login, page_text, post

ACME = "732829320"
NEW = "une phrase assez longue"


@pytest.fixture
def app_overrides(mail_server):
    return {"SMTP_URL": mail_server.url, "BASE_URL": "http://portail.example"}


def invite(app, client, email: str, role: str = "member"):
    response = post(client, f"/organisations/{ACME}/membres/inviter",
                    {"email": email, "role": role}, page=f"/organisations/{ACME}")
    wait_for_sends(app)
    return response


def invitation_link(mail_server, email: str) -> str:
    received = mail_server.to(email)[-1]
    [link] = [link for link in received.links() if "/invitation/" in link]
    return link.removeprefix("http://portail.example")


def membership_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Membership.id).join(User).where(User.email == email))


def test_admins_see_members_with_role_and_last_sign_in_and_can_act(client, cast):
    login(client, cast.alice)
    text = page_text(client.get(f"/organisations/{ACME}"))
    assert "Membres" in text and "Alice Admin" in text and "Bob Membre" in text
    assert "Administrateur" in text and "jamais" in text  # Bob never signed in
    assert "Inviter une personne" in text and "Changer le rôle" in text


def test_members_see_the_list_read_only(client, cast):
    login(client, cast.bob)
    text = page_text(client.get(f"/organisations/{ACME}"))
    assert "Alice Admin" in text and "Bob Membre" in text
    assert "Inviter une personne" not in text and "Changer le rôle" not in text
    assert "Seuls les administrateurs" in text
    assert invite_as_member(client).status_code == 403


def invite_as_member(client):
    return post(client, f"/organisations/{ACME}/membres/inviter",
                {"email": "x@example.com", "role": "member"}, page=f"/organisations/{ACME}")


def test_an_invitation_reaches_the_address_with_a_single_use_link_and_is_audited(
        app, client, cast, mail_server):
    login(client, cast.alice)
    response = invite(app, client, "nouvelle@example.com", "admin")
    assert response.status_code == 303
    [received] = mail_server.to("nouvelle@example.com")
    assert received.subject == "Invitation à rejoindre Acme Nettoyage sur hiveo"
    assert received.message["Reply-To"] == cast.alice
    assert "Alice Admin vous invite à rejoindre Acme Nettoyage" in received.text
    assert "administrateur" in received.text
    link = invitation_link(mail_server, "nouvelle@example.com")
    assert f'href="http://portail.example{link}"' in received.html
    text = page_text(client.get(f"/organisations/{ACME}"))
    assert "Invitations en attente" in text and "nouvelle@example.com" in text
    assert "Alice Admin a invité nouvelle@example.com (administrateur)" in text


@pytest.mark.parametrize(("email", "message"), [
    ("pas-une-adresse", "n'est pas valide"),
    ("bob@example.com", "est déjà membre"),
    ("", "Ce champ est obligatoire"),
])
def test_bad_invitations_are_refused_with_a_message(app, client, cast, mail_server,
                                                     email, message):
    login(client, cast.alice)
    response = invite(app, client, email)
    assert response.status_code == 422 and message in page_text(response)
    assert mail_server.received == []


def test_a_second_invitation_for_a_pending_address_is_refused(app, client, cast, mail_server):
    login(client, cast.alice)
    invite(app, client, "nouvelle@example.com")
    response = invite(app, client, "Nouvelle@Example.com")
    assert response.status_code == 422 and "déjà en attente" in page_text(response)
    assert len(mail_server.received) == 1


def test_without_an_account_the_link_creates_one_joins_and_signs_in(
        app, client, cast, mail_server):
    login(client, cast.alice)
    invite(app, client, "nouvelle@example.com")
    link = invitation_link(mail_server, "nouvelle@example.com")
    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Créer votre compte" in page_text(page)
    token = fetch_csrf(visitor, link)
    bad = visitor.post(link, data={"name": "", "password": "court", "confirm_password": "x",
                                   "csrf_token": token})
    text = page_text(bad)
    assert bad.status_code == 422
    assert "Ce champ est obligatoire" in text and "12 caractères" in text
    assert "ne correspondent pas" in text
    done = visitor.post(link, data={"name": "Nina Nouvelle", "password": NEW,
                                    "confirm_password": NEW, "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == f"/organisations/{ACME}"
    assert "Nina Nouvelle" in page_text(visitor.get(f"/organisations/{ACME}"))
    again = app.test_client().get(link)
    assert again.status_code == 410 and "déjà" in page_text(again)
    assert login(app.test_client(), "nouvelle@example.com", NEW).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Invitation.accepted_at)) is not None
        assert "member.joined" in db.session.scalars(select(AuditEvent.action)).all()


def test_signed_in_with_the_invited_address_one_joins_with_a_button(
        app, client, cast, mail_server):
    login(client, cast.charlie)  # admin of Globex, not of Acme
    assert client.get(f"/organisations/{ACME}").status_code == 404
    admin = app.test_client()
    login(admin, cast.alice)
    invite(app, admin, cast.charlie)
    link = invitation_link(mail_server, cast.charlie)
    page = client.get(link)
    assert page.status_code == 200 and "Rejoindre Acme Nettoyage" in page_text(page)
    assert client.post(link, data={"csrf_token": fetch_csrf(client, link)}).status_code == 303
    assert client.get(f"/organisations/{ACME}").status_code == 200


def test_an_existing_account_not_signed_in_is_asked_to_sign_in(app, client, cast, mail_server):
    login(client, cast.alice)
    invite(app, client, cast.charlie)
    page = app.test_client().get(invitation_link(mail_server, cast.charlie))
    assert page.status_code == 200 and "Connectez-vous pour rejoindre" in page_text(page)


def test_signed_in_with_another_address_the_link_does_nothing(app, client, cast, mail_server):
    login(client, cast.alice)
    invite(app, client, "nouvelle@example.com")
    link = invitation_link(mail_server, "nouvelle@example.com")
    other = app.test_client()
    login(other, cast.charlie)
    assert "destinée à une autre adresse" in page_text(other.get(link))
    assert other.post(link, data={"csrf_token": fetch_csrf(other, link)}).status_code == 403
    assert other.get(f"/organisations/{ACME}").status_code == 404


def test_a_resend_invalidates_the_earlier_link(app, client, cast, mail_server):
    login(client, cast.alice)
    invite(app, client, "nouvelle@example.com")
    first = invitation_link(mail_server, "nouvelle@example.com")
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    response = post(client, f"/organisations/{ACME}/invitations/{invitation_id}/renvoyer",
                    page=f"/organisations/{ACME}")
    wait_for_sends(app)
    assert response.status_code == 303
    second = invitation_link(mail_server, "nouvelle@example.com")
    assert second != first and len(mail_server.to("nouvelle@example.com")) == 2
    old = app.test_client().get(first)
    assert old.status_code == 410 and "déjà servi" in page_text(old)
    assert "Créer votre compte" in page_text(app.test_client().get(second))


def test_revoked_expired_and_tampered_links_get_a_clear_page(app, client, cast, mail_server):
    login(client, cast.alice)
    invite(app, client, "revoquee@example.com")
    invite(app, client, "expiree@example.com")
    revoked_link = invitation_link(mail_server, "revoquee@example.com")
    expired_link = invitation_link(mail_server, "expiree@example.com")
    with app.app_context():
        revoked_id = db.session.scalar(select(Invitation.id).where(
            Invitation.email == "revoquee@example.com"))
        expired = db.session.scalar(select(Invitation).where(
            Invitation.email == "expiree@example.com"))
        expired.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert post(client, f"/organisations/{ACME}/invitations/{revoked_id}/revoquer",
                page=f"/organisations/{ACME}").status_code == 303
    visitor = app.test_client()
    revoked = visitor.get(revoked_link)
    assert revoked.status_code == 410
    expired_page = visitor.get(expired_link)
    assert expired_page.status_code == 410 and "a expiré" in page_text(expired_page)
    tampered = visitor.get(expired_link[:-3] + "zzz")
    assert tampered.status_code == 410 and "n'est pas valide" in page_text(tampered)
    # A control character is refused at the edge, before any view, in French.
    control = visitor.get("/invitation/%00%ff")
    assert control.status_code == 400 and "caractères de contrôle" in page_text(control)
    assert visitor.get("/invitation/%ff%fe").status_code == 410
    assert "révoqué l'invitation de revoquee@example.com" in page_text(
        client.get(f"/organisations/{ACME}"))
    again = post(client, f"/organisations/{ACME}/invitations/{revoked_id}/renvoyer",
                 page=f"/organisations/{ACME}")
    assert again.status_code == 409 and "n'est plus en attente" in page_text(again)


def test_roles_change_and_the_last_admin_can_be_neither_demoted_nor_removed(app, client, cast):
    login(client, cast.alice)
    alice, bob = membership_id(app, cast.alice), membership_id(app, cast.bob)
    demote = post(client, f"/organisations/{ACME}/membres/{alice}/role", {"role": "member"},
                  page=f"/organisations/{ACME}")
    assert demote.status_code == 409 and "dernier administrateur" in page_text(demote)
    remove = post(client, f"/organisations/{ACME}/membres/{alice}/retirer",
                  page=f"/organisations/{ACME}")
    assert remove.status_code == 409 and "dernier administrateur" in page_text(remove)
    promote = post(client, f"/organisations/{ACME}/membres/{bob}/role", {"role": "admin"},
                   page=f"/organisations/{ACME}")
    assert promote.status_code == 303
    # With two admins, Alice may step down.
    assert post(client, f"/organisations/{ACME}/membres/{alice}/role", {"role": "member"},
                page=f"/organisations/{ACME}").status_code == 303
    assert post(client, f"/organisations/{ACME}/membres/{bob}/role", {"role": "owner"},
                page=f"/organisations/{ACME}").status_code == 403  # Alice is a member now
    bob_client = app.test_client()
    login(bob_client, cast.bob)
    text = page_text(bob_client.get(f"/organisations/{ACME}"))
    assert "Alice Admin a changé le rôle de Bob Membre : membre → administrateur" in text
    assert "Alice Admin a changé le rôle de Alice Admin : administrateur → membre" in text


def test_an_unknown_role_is_refused(app, client, cast):
    login(client, cast.alice)
    bob = membership_id(app, cast.bob)
    response = post(client, f"/organisations/{ACME}/membres/{bob}/role", {"role": "owner"},
                    page=f"/organisations/{ACME}")
    assert response.status_code == 422


def test_removing_a_member_asks_first_then_takes_the_access_away(app, client, cast):
    login(client, cast.alice)
    bob = membership_id(app, cast.bob)
    confirm = client.get(f"/organisations/{ACME}/membres/{bob}/retirer")
    assert confirm.status_code == 200 and "Retirer Bob Membre ?" in page_text(confirm)
    assert post(client, f"/organisations/{ACME}/membres/{bob}/retirer",
                page=f"/organisations/{ACME}").status_code == 303
    bob_client = app.test_client()
    login(bob_client, cast.bob)
    assert bob_client.get(f"/organisations/{ACME}").status_code == 404
    assert "a retiré Bob Membre (bob@example.com)" in page_text(
        client.get(f"/organisations/{ACME}"))
    assert client.get(f"/organisations/{ACME}/membres/{bob}/retirer").status_code == 404


def test_a_membership_of_another_company_cannot_be_touched(app, client, cast):
    login(client, cast.alice)
    charlie = membership_id(app, cast.charlie)
    response = post(client, f"/organisations/{ACME}/membres/{charlie}/role", {"role": "member"},
                    page=f"/organisations/{ACME}")
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Membership, charlie).role == "admin"


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, cast):
    import threading

    from hiveo.extensions import begin_write
    from hiveo.members.services import MemberError
    from hiveo.members.services import change_role as demote
    from hiveo.models import Company

    with app.app_context():
        bob = db.session.scalar(select(Membership).join(User).where(User.email == cast.bob))
        bob.role = "admin"
        db.session.commit()
    alice_id, bob_id = membership_id(app, cast.alice), membership_id(app, cast.bob)
    barrier, outcomes = threading.Barrier(2), []

    def step_down(actor: str, target: int) -> None:
        with app.app_context():
            barrier.wait()
            begin_write()
            try:
                demote(db.session.get(Company, cast.acme_id), target, "member", db.session.scalar(
                    select(User).where(User.email == actor)))
                db.session.commit()
                outcomes.append("done")
            except MemberError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=step_down, args=(cast.alice, bob_id)),
               threading.Thread(target=step_down, args=(cast.bob, alice_id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["done", "refused"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Membership.id)).where(
            Membership.company_id == cast.acme_id, Membership.role == "admin")) == 1
