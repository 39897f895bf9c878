from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

_REQUIRED = "Ce champ est obligatoire."


class LoginForm(FlaskForm):
    email = EmailField("Adresse e-mail", validators=[DataRequired(_REQUIRED), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(_REQUIRED)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Adresse e-mail", validators=[DataRequired(_REQUIRED), Length(max=254)])


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        "Nouveau mot de passe", validators=[DataRequired(_REQUIRED), Length(max=512)]
    )
    confirm_password = PasswordField(
        "Confirmez le nouveau mot de passe",
        validators=[
            DataRequired(_REQUIRED),
            EqualTo("new_password", "Les deux mots de passe ne correspondent pas."),
        ],
    )


class PasswordChangeForm(NewPasswordForm):
    """A new password, proved by the current one."""

    current_password = PasswordField("Mot de passe actuel", validators=[DataRequired(_REQUIRED)])


class NameForm(FlaskForm):
    name = StringField("Nom", validators=[DataRequired(_REQUIRED), Length(max=120)])


class EmailChangeForm(FlaskForm):
    new_email = EmailField("Nouvelle adresse e-mail",
                           validators=[DataRequired(_REQUIRED), Length(max=254)])
    password = PasswordField("Mot de passe actuel", validators=[DataRequired(_REQUIRED)])


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token, and nothing else."""


class DigestForm(FlaskForm):
    """The client digest opt-in (legal reminders have no such switch)."""

    receive = BooleanField("Recevoir chaque semaine le récapitulatif des fournisseurs devenus "
                           "non conformes")
