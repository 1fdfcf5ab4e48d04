"""Forms for the catalogue editor and for entering published values by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zichtbaar.core.forms import VersionedDataForm

from .keys import MAX_KEY_LENGTH

FIRST_YEAR, LAST_YEAR = 1990, 2100
SOURCES = (("nr", _("National Rapporteur")), ("comensha", "CoMensha"), ("ckm", "CKM / Fier"),
           ("wodc", "WODC"), ("cbs", "CBS"), ("unodc", "UNODC"), ("own", _("My organisation")))


class CatalogueForm(VersionedDataForm):
    """The catalogue as YAML, as in the repository file; saving makes a new version."""

    data_label = _("Catalogue (YAML)")
    not_a_mapping = _("The catalogue must be a mapping with a version and indicators.")


class ValueForm(forms.Form):
    """One published value with its provenance; a value already there becomes a revision."""

    indicator = forms.ChoiceField(label=_("Indicator"))
    year = forms.IntegerField(label=_("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    dims = forms.CharField(
        label=_("Breakdown"), required=False, max_length=MAX_KEY_LENGTH,
        help_text=_("Empty for the total, or name=value pairs separated by commas, for "
                    "example form=sexual, region=utrecht."))
    source = forms.ChoiceField(label=_("Published by"), choices=SOURCES)
    value = forms.DecimalField(label=_("Value"), max_digits=20, decimal_places=6)
    lower = forms.DecimalField(label=_("Lower bound"), required=False, max_digits=20,
                               decimal_places=6)
    upper = forms.DecimalField(label=_("Upper bound"), required=False, max_digits=20,
                               decimal_places=6)
    publication = forms.CharField(label=_("Publication"), max_length=300)
    page = forms.CharField(label=_("Page"), required=False, max_length=32)
    source_url = forms.URLField(label=_("Address"), required=False, max_length=500,
                                assume_scheme="https")
    as_of = forms.DateField(label=_("Published on"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason for a revision"), required=False, max_length=300)

    def __init__(self, *args: Any, indicators: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = indicators

    def clean_dims(self) -> dict[str, str]:
        text = self.cleaned_data["dims"].strip()
        dims: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise forms.ValidationError(
                    _("Write the breakdown as name=value pairs, for example form=sexual."))
            dims[name.strip()] = value.strip()
        return dims

    def clean_as_of(self) -> dt.date | None:
        day = self.cleaned_data.get("as_of")
        if day and day > dt.date.today():
            raise forms.ValidationError(_("A publication date cannot lie in the future."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        value, lower, upper = data.get("value"), data.get("lower"), data.get("upper")
        if value is not None and ((lower is not None and lower > value)
                                  or (upper is not None and upper < value)):
            raise forms.ValidationError(_("The bounds must lie around the value."))
        return data
