from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

_REQUIRED = "Ce champ est obligatoire."
ROLE_CHOICES = [SelectChoice("member", "Membre"), SelectChoice("admin", "Administrateur")]


class InviteForm(FlaskForm):
    email = EmailField("Adresse e-mail", validators=[DataRequired(_REQUIRED), Length(max=254)])
    role = SelectField("Rôle", choices=ROLE_CHOICES, default="member",
                       validate_choice=True)


class RoleForm(FlaskForm):
    role = SelectField("Rôle", choices=ROLE_CHOICES, validate_choice=True)


class CreateAccountForm(FlaskForm):
    name = StringField("Votre nom", validators=[DataRequired(_REQUIRED), Length(max=120)])
    password = PasswordField("Mot de passe", validators=[DataRequired(_REQUIRED), Length(max=512)])
    confirm_password = PasswordField(
        "Confirmez le mot de passe",
        validators=[DataRequired(_REQUIRED),
                    EqualTo("password", "Les deux mots de passe ne correspondent pas.")])


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token, and nothing else."""
