from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

_REQUIRED = "Ce champ est obligatoire."


class LoginForm(FlaskForm):
    email = EmailField("Adresse e-mail", validators=[DataRequired(_REQUIRED), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(_REQUIRED)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Mot de passe actuel", validators=[DataRequired(_REQUIRED)])
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
