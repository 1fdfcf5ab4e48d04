"""Input shape of the decoy pages; rules about what a decoy may be live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Decoy

# A persona is a fiction written by the organisation; ages outside this range are typing errors.
PERSONA_AGE_MIN = 12
PERSONA_AGE_MAX = 99


class DecoyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100,
        help_text=_("For your colleagues only; the gateway and senders never see it."))
    profile = forms.CharField(
        label=_("Profile text"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The text of the decoy ad. It must never contain a real person's name, "
                    "photo or number."))
    persona_age = forms.IntegerField(
        label=_("Stated age of the persona"), required=False, min_value=PERSONA_AGE_MIN,
        max_value=PERSONA_AGE_MAX,
        help_text=_("Under 18: every message gets the strongest warning and help "
                    "information."))
    active = forms.BooleanField(
        label=_("Active"), required=False, initial=True,
        help_text=_("An inactive decoy refuses the gateway's messages."))

    @classmethod
    def for_decoy(cls, decoy: Decoy, data: Any = None) -> DecoyForm:
        initial = {"name": decoy.name, "profile": decoy.profile,
                   "persona_age": decoy.persona_age, "active": decoy.active}
        return cls(data, initial=initial)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the decoy a name."))
        return name

    def to_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "profile": data.get("profile") or "",
                "persona_age": data.get("persona_age"), "active": bool(data.get("active"))}
