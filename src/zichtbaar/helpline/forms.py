"""Input shapes. The coding form is built from the codebook, in the user's language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import codebook as codebook_mod
from .hours import DAYS, valid_hours

CODING_ERRORS = {
    "required": _("This field is required."),
    "invalid": _("Choose one of the listed options."),
    "alternative_route": _("A parent is recorded as perpetrator: record the alternative "
                           "route taken (the usual route via the parents can endanger the "
                           "child)."),
    "chat_open": _("The chat is still open; end it before completing the coding."),
}


class CodingForm(forms.Form):
    """The codebook as a form; ``short``: a chat closed as abandoned (core questions only)."""

    def __init__(self, *args: Any, codebook: codebook_mod.Codebook, short: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = (get_language() or "nl")[:2]
        self.codebook = codebook
        self.short = short
        for book_field in codebook.fields:
            choices = [(o.value, o.label.get(language) or o.label["en"])
                       for o in book_field.options]
            label = book_field.label_in(language)
            if book_field.kind == "multi":
                self.fields[book_field.name] = forms.MultipleChoiceField(
                    label=label, choices=choices, required=False,
                    widget=forms.CheckboxSelectMultiple)
            else:
                self.fields[book_field.name] = forms.ChoiceField(
                    label=label, choices=[("", "—"), *choices], required=False)
            self.fields[book_field.name].codebook_required = book_field.required and (
                not short or book_field.name in codebook_mod.SHORT_REQUIRED)

    def core_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name in codebook_mod.SHORT_REQUIRED]

    def more_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in codebook_mod.SHORT_REQUIRED]

    def add_codebook_errors(self, errors: dict[str, str]) -> None:
        for name, code in errors.items():
            self.add_error(None if name == "__all__" else name,
                           str(CODING_ERRORS.get(code, CODING_ERRORS["invalid"])))


class ReferralForm(forms.Form):
    consent = forms.BooleanField(
        label=_("The visitor has agreed to this referral"), required=True)
    referred_to = forms.MultipleChoiceField(label=_("Refer to"),
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = (get_language() or "nl")[:2]
        book_field = codebook_mod.load().field("referral_made")
        self.fields["referred_to"].choices = [
            (o.value, o.label.get(language) or o.label["en"]) for o in book_field.options]


class CannedResponseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=80)
    text = forms.CharField(label=_("Text"), max_length=2000, widget=forms.Textarea(
        attrs={"rows": 3}))


class SettingsForm(forms.Form):
    max_concurrent_chats = forms.IntegerField(label=_("Concurrent chats per counsellor"),
                                              min_value=1, max_value=10)
    retention_days = forms.IntegerField(label=_("Keep transcripts for (days)"),
                                        min_value=1, max_value=365)
    always_open = forms.BooleanField(label=_("Always open (24/7)"), required=False)
    opening_hours = forms.CharField(
        label=_("Opening hours"), max_length=2000, widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("One line per day, e.g. \"mon 10:00-22:00\"; several spans separated by "
                    "commas; leave a day out when closed."))

    def clean_opening_hours(self) -> dict[str, list[list[str]]]:
        hours: dict[str, list[list[str]]] = {}
        for line in self.cleaned_data["opening_hours"].splitlines():
            if not line.strip():
                continue
            day, _sep, spans = line.strip().partition(" ")
            if day not in DAYS:
                raise forms.ValidationError(_("Unknown day \"%(day)s\"."), params={"day": day})
            for span in spans.split(","):
                start, _dash, end = span.strip().partition("-")
                hours.setdefault(day, []).append([start.strip(), end.strip()])
        if not valid_hours(hours):
            raise forms.ValidationError(_("Write times as HH:MM-HH:MM, start before end."))
        return hours


def hours_as_text(hours: dict[str, list[list[str]]]) -> str:
    return "\n".join(f"{day} " + ", ".join(f"{s}-{e}" for s, e in hours[day])
                     for day in DAYS if hours.get(day))


class StatsForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    population = forms.ChoiceField(label=_("Breakdowns over"), choices=[
        ("trafficking", _("chats with a trafficking help question")),
        ("all", _("all coded chats"))], required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start date must be before the end date."))
        return data
