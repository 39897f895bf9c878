from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, FileField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..dossier.catalogue import CATALOGUE

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
NO_REPLACEMENT = SelectChoice("", "Aucun : c'est un document de plus")
_BAD_DATE = "Date invalide : utilisez le format JJ/MM/AAAA."


class FrenchDateField(DateField):
    """A date input that accepts ISO (from the browser's picker) and JJ/MM/AAAA."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_BAD_DATE) from None


class UploadForm(FlaskForm):
    file = FileField("Fichier PDF")
    doc_type = SelectField(
        "Type de document",
        choices=[SelectChoice("", "Choisissez un type…")]
        + [SelectChoice(t.code, t.label) for t in CATALOGUE.values()],
    )
    siret = StringField("Concerne")
    issue_date = FrenchDateField("Date de délivrance", format=DATE_FORMATS,
                                 validators=[Optional()])
    validity_start = FrenchDateField("Début de validité", format=DATE_FORMATS,
                                     validators=[Optional()])
    validity_end = FrenchDateField("Fin de validité", format=DATE_FORMATS,
                                   validators=[Optional()])
    replaces = SelectField("Remplace", choices=[NO_REPLACEMENT], validate_choice=False)


class RefuseForm(FlaskForm):
    reason = StringField("Raison du refus (visible par le fournisseur)")
