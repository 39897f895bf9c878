from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, FileField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..core.dates import out_of_range
from ..core.inputs import parse_id
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


def plausible_date(_form, field) -> None:
    """Every date typed in a form lies in the portal's range (hiveo/core/dates.py)."""
    problem = out_of_range(field.data) if field.data is not None else None
    if problem:
        raise ValidationError(problem)


def document_id(_form, field) -> None:
    """A document chosen in a list: an id, never another number ('²', 10**30)."""
    if field.data and parse_id(field.data) is None:
        raise ValidationError("Le document à remplacer n'est pas un document en cours de ce "
                              "dossier.")


class UploadForm(FlaskForm):
    file = FileField("Fichier PDF")
    doc_type = SelectField(
        "Type de document",
        choices=[SelectChoice("", "Choisissez un type…")]
        + [SelectChoice(t.code, t.label) for t in CATALOGUE.values()],
    )
    siret = StringField("Concerne")
    issue_date = FrenchDateField("Date de délivrance", format=DATE_FORMATS,
                                 validators=[Optional(), plausible_date])
    validity_start = FrenchDateField("Début de validité", format=DATE_FORMATS,
                                     validators=[Optional(), plausible_date])
    validity_end = FrenchDateField("Fin de validité", format=DATE_FORMATS,
                                   validators=[Optional(), plausible_date])
    replaces = SelectField("Remplace", choices=[NO_REPLACEMENT], validate_choice=False,
                           validators=[document_id])

    @property
    def replaced_id(self) -> int | None:
        """The id of the document to replace, None when none (or not an id) was chosen."""
        return parse_id(self.replaces.data)


class RefuseForm(FlaskForm):
    reason = StringField("Raison du refus (visible par le fournisseur)")
