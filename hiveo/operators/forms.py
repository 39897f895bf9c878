from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField


class NewClientForm(FlaskForm):
    siren = StringField("SIREN")
    name = StringField("Raison sociale")
    email = EmailField("E-mail de son premier administrateur")


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token, and nothing else."""
