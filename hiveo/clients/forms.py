from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import Length

from ..relations.services import MAX_REASON


class RespondForm(FlaskForm):
    reason = TextAreaField("Raison", validators=[Length(
        max=MAX_REASON, message=f"{MAX_REASON} caractères au plus.")])


class ShareForm(FlaskForm):
    # The choices are checked by relations.share(), which knows the catalogue.
    doc_types = SelectMultipleField("Documents partagés", validate_choice=False)
