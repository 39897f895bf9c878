from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, FileField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..documents.forms import DATE_FORMATS, FrenchDateField, plausible_date


class InviteSupplierForm(FlaskForm):
    """The fields' names are those the domain's refusals name (relations/invitations.py)."""

    siren = StringField("SIREN ou SIRET")
    name = StringField("Raison sociale")
    email = EmailField("E-mail du contact")
    supplier_code = StringField("Code fournisseur")
    contract_ref = StringField("Référence du contrat")
    category = StringField("Catégorie d'achat")
    description = TextAreaField("Description")
    tracking_end = FrenchDateField("Fin de suivi", format=DATE_FORMATS,
                                   validators=[Optional(), plausible_date])


MODE_CHOICES = [
    SelectChoice("all_or_nothing", "Tout ou rien\u00a0: si une ligne est refusée, aucune "
                 "invitation n'est envoyée"),
    SelectChoice("row_by_row", "Ligne par ligne\u00a0: les lignes correctes sont invitées, "
                 "les autres sont signalées"),
]


class ImportForm(FlaskForm):
    file = FileField("Fichier CSV")
    mode = RadioField("En cas de ligne refusée", choices=MODE_CHOICES, default="all_or_nothing",
                      validate_choice=True)
