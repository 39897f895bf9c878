from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

_REQUIRED = "Ce champ est obligatoire."


class EstablishmentForm(FlaskForm):
    name = StringField("Nom", validators=[DataRequired(_REQUIRED), Length(max=200)])
    address = StringField("Adresse", validators=[Length(max=300)])
    postal_code = StringField("Code postal", validators=[Length(max=10)])
    city = StringField("Ville", validators=[Length(max=120)])


class NewEstablishmentForm(EstablishmentForm):
    siret = StringField("SIRET", validators=[DataRequired(_REQUIRED), Length(max=40)])


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token, and nothing else."""
