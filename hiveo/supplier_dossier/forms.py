from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Optional

from ..documents.forms import DATE_FORMATS, FrenchDateField, plausible_date


class ReasonForm(FlaskForm):
    """Suspending, closing or reactivating a relation; the services check the reason."""

    reason = TextAreaField("Raison")


class ReferencesForm(FlaskForm):
    """The client's own references; their limits and uniqueness live in relations.services."""

    supplier_code = StringField("Code fournisseur")
    contract_ref = StringField("Référence du contrat")
    category = StringField("Catégorie d'achat")
    description = TextAreaField("Description")
    tracking_end = FrenchDateField("Fin de suivi", format=DATE_FORMATS,
                                   validators=[Optional(), plausible_date])
