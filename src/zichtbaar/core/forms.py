"""Form pieces shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class VersionedDataForm(forms.Form):
    """Versioned data (a lexicon, a catalogue) edited as YAML, as in the repository file;
    saving makes a new version. Subclasses name the data, its size limit and what a
    mapping must hold."""

    data_label: Any = _("Data (YAML)")
    max_length: int = 1024 * 1024
    not_a_mapping: Any = _("The data must be a mapping with a version.")

    data = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "cols": 100}))
    note = forms.CharField(label=_("Change note"), required=False, max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["data"]
        field.label = self.data_label
        field.max_length = self.max_length  # type: ignore[attr-defined]
        field.validators.append(MaxLengthValidator(self.max_length))

    def clean_data(self) -> dict[str, Any]:
        import yaml

        try:
            data = yaml.safe_load(self.cleaned_data["data"])
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" ({_('line')} {mark.line + 1})" if mark is not None else ""
            raise forms.ValidationError(_("This is not valid YAML") + where) from exc
        if not isinstance(data, dict):
            raise forms.ValidationError(self.not_a_mapping)
        return data
