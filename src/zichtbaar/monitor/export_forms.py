"""Input shape of the export page, the download and the API: which table, which years,
which form. Only the shape is checked here; what a user may see is decided in the view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import exports, publish

FIRST_YEAR, LAST_YEAR, MAX_SPAN = 2000, 2100, 50
AUDIENCES = (("national", _("National, protected")),
             ("internal", _("My organisation, exact (not for publication)")))


def shape_choices() -> list[tuple[str, str]]:
    return [(key, key) for key in publish.SHAPES]


class ExportForm(forms.Form):
    """One export request. ``table`` is a standard shape key or an indicator id."""

    table = forms.CharField(label=_("Table"), max_length=40)
    by = forms.CharField(label=_("Broken down by"), max_length=40, required=False)
    audience = forms.ChoiceField(label=_("Audience"), choices=AUDIENCES, initial="national",
                                 required=False)
    format = forms.ChoiceField(label=_("Format"), required=False, initial="csv",
                               choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    first = forms.IntegerField(label=_("From year"), min_value=FIRST_YEAR,
                               max_value=LAST_YEAR, required=False,
                               error_messages={"invalid": _("Enter a year, such as 2024.")})
    last = forms.IntegerField(label=_("To year"), min_value=FIRST_YEAR, max_value=LAST_YEAR,
                              required=False,
                              error_messages={"invalid": _("Enter a year, such as 2024.")})
    on = forms.DateField(label=_("As published on"), required=False,
                         error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")})

    def __init__(self, *args: Any, indicators: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = set(indicators or [])

    def clean_table(self) -> str:
        table = str(self.cleaned_data["table"]).strip()
        if table not in publish.SHAPES and table not in self.indicators:
            raise forms.ValidationError(_("Unknown table: choose one from the list."))
        return table

    def clean_format(self) -> str:
        return self.cleaned_data.get("format") or "csv"

    def clean_audience(self) -> str:
        return self.cleaned_data.get("audience") or "national"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first is not None and last is not None:
            if first > last:
                raise forms.ValidationError(_("The first year comes after the last year."))
            if last - first >= MAX_SPAN:
                raise forms.ValidationError(_("Choose at most %(n)s years.") % {"n": MAX_SPAN})
        on = data.get("on")
        if on is not None and on > dt.date.today() + dt.timedelta(days=1):
            self.add_error("on", _("This date is in the future."))
        if data.get("table") in publish.SHAPES:
            if data.get("audience") == "internal":
                self.add_error("audience", _("The international tables are national only."))
            if data.get("by"):
                self.add_error("by", _("The international tables have a fixed layout."))
        return data

    @property
    def years(self) -> tuple[int, int] | None:
        first, last = self.cleaned_data.get("first"), self.cleaned_data.get("last")
        if first is None and last is None:
            return None
        return (first or last, last or first)


FORMAT_NAMES = exports.FORMATS
