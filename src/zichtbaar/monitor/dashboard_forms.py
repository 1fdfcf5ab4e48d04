"""The dashboard's filters: period, region, form, age band and "as published on".

Only the shape is checked here; which filter applies to which indicator is the dashboard's
business (an indicator without a region dimension ignores the region, and says so).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FIRST_YEAR = 2007  # the oldest published series (NR 2012: 716 victims in 2007)
DEFAULT_SPAN = 12

# The ten police units: the finest public release level (monitor.md §6.2 rule 1).
REGIONS: tuple[tuple[str, str], ...] = (
    ("noord_nederland", "Noord-Nederland"), ("oost_nederland", "Oost-Nederland"),
    ("midden_nederland", "Midden-Nederland"), ("noord_holland", "Noord-Holland"),
    ("amsterdam", "Amsterdam"), ("den_haag", "Den Haag"), ("rotterdam", "Rotterdam"),
    ("zeeland_west_brabant", "Zeeland-West-Brabant"), ("oost_brabant", "Oost-Brabant"),
    ("limburg", "Limburg"),
)
FORMS = ("sexual", "labour", "criminal", "other")
AGE_BANDS = ("<18", "18_plus")


def _choices(dimension: str, keys: tuple[str, ...]) -> list[tuple[str, Any]]:
    from . import labels

    return [("", _("All")), *((k, labels.VALUES[dimension][k]) for k in keys)]


class DashboardFilterForm(forms.Form):
    """GET parameters of every dashboard page, chart and CSV: one validation for all."""

    year_from = forms.IntegerField(label=_("From year"), required=False)
    year_to = forms.IntegerField(label=_("To year"), required=False)
    region = forms.ChoiceField(label=_("Region (police unit)"), required=False,
                               choices=[("", _("All")), *REGIONS])
    form = forms.ChoiceField(label=_("Form of exploitation"), required=False)
    age_band = forms.ChoiceField(label=_("Age"), required=False)
    on = forms.DateField(label=_("As published on"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}),
                         help_text=_("Empty: the newest figures. A date shows the figures "
                                     "as they were published on that day."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = _choices("form", FORMS)
        self.fields["age_band"].choices = _choices("age_band", AGE_BANDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        this_year = timezone.localdate().year
        first, last = data.get("year_from"), data.get("year_to")
        for name, year in (("year_from", first), ("year_to", last)):
            if year is not None and not FIRST_YEAR <= year <= this_year:
                self.add_error(name, _("Choose a year from %(first)s to %(last)s.")
                               % {"first": FIRST_YEAR, "last": this_year})
        if first is not None and last is not None and first > last \
                and not self.has_error("year_from") and not self.has_error("year_to"):
            self.add_error("year_to", _("The end year comes before the start year."))
        on = data.get("on")
        if on is not None and on > timezone.localdate():
            self.add_error("on", _("A publication date cannot be in the future."))
        return data

    def selection(self) -> Selection:
        """The validated filters with defaults filled in; call only when valid."""
        data = self.cleaned_data
        this_year = timezone.localdate().year
        last = data.get("year_to") or this_year
        first = data.get("year_from") or min(last, max(FIRST_YEAR, last - DEFAULT_SPAN))
        return Selection(year_from=first, year_to=last, region=data.get("region") or "",
                         form=data.get("form") or "", age_band=data.get("age_band") or "",
                         on=data.get("on"))


class Selection:
    """Filters as the dashboard uses them; ``query`` rebuilds the GET string for links."""

    def __init__(self, *, year_from: int, year_to: int, region: str = "", form: str = "",
                 age_band: str = "", on: dt.date | None = None) -> None:
        self.year_from, self.year_to = year_from, year_to
        self.region, self.form, self.age_band, self.on = region, form, age_band, on

    @property
    def years(self) -> list[int]:
        return list(range(self.year_from, self.year_to + 1))

    def dims(self) -> dict[str, str]:
        return {k: v for k, v in (("region", self.region), ("form", self.form),
                                  ("age_band", self.age_band)) if v}

    def query(self) -> str:
        from urllib.parse import urlencode

        pairs = {"year_from": self.year_from, "year_to": self.year_to, **self.dims()}
        if self.on is not None:
            pairs["on"] = self.on.isoformat()
        return urlencode(pairs)

    def audit_detail(self) -> dict[str, Any]:
        return {"years": [self.year_from, self.year_to], **self.dims(),
                "on": self.on.isoformat() if self.on else None}
