from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .events import AuditAction, event_choices, object_type_choices


def _event_choices() -> list[tuple[str, str]]:
    # Called at each form build: every app's events, labelled in the reader's language.
    return [("", _("All events")), *event_choices()]


def _object_type_choices() -> list[tuple[str, str]]:
    return [("", _("All record types")), *object_type_choices()]


class AuditSearchForm(forms.Form):
    event = forms.ChoiceField(label=_("Event"), required=False, choices=_event_choices)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("All actions")), *AuditAction.choices])
    actor = forms.CharField(label=_("User name"), required=False, max_length=150)
    object_type = forms.ChoiceField(label=_("Record type"), required=False,
                                    choices=_object_type_choices)
    object_id = forms.CharField(label=_("Record"), required=False, max_length=64)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Until"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date lies before the start date."))
        return data
