"""The report request: only the shape of the input (year, language, format, scope)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .report import FIRST_YEAR

SCOPES = (("national", _("National (protected: fit for publication)")),
          ("internal", _("My organisation only (internal: not for publication)")))


def year_choices() -> list[tuple[int, str]]:
    last = timezone.localdate().year
    return [(y, str(y)) for y in range(last, FIRST_YEAR - 1, -1)]


class ReportForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, choices=year_choices)
    language = forms.ChoiceField(label=_("Language"),
                                 choices=(("nl", _("Dutch")), ("en", _("English"))))
    format = forms.ChoiceField(label=_("Format"), choices=(("pdf", "PDF"), ("html", "HTML")))
    scope = forms.ChoiceField(label=_("Scope"), choices=SCOPES, initial="national",
                              widget=forms.RadioSelect)
