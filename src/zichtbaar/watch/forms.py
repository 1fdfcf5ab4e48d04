from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zichtbaar.core.forms import VersionedDataForm

from .models import Cluster


class LabelForm(forms.Form):
    label = forms.ChoiceField(label=_("Label"), choices=Cluster.Label.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


def language() -> str:
    """The interface language for data labels kept in both languages."""
    return "en" if (get_language() or "nl").startswith("en") else "nl"


def _hub_indicator_choices() -> list[tuple[str, str]]:
    from zichtbaar.hub.codebook import Codebook, label
    from zichtbaar.hub.services import current_codebook

    lang = language()
    book = Codebook(current_codebook().data)
    return [(code, f"{code} · {label(item.label, lang)}")
            for code, item in book.indicators.items()]


class HandoverForm(forms.Form):
    """The analyst codes the cluster in the hub's codebook before handing it over."""

    indicators = forms.MultipleChoiceField(label=_("Hub indicators"), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    minor = forms.BooleanField(label=_("A minor may be involved"), required=False)
    note = forms.CharField(label=_("Note for the signal desk"), required=False,
                           max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I have checked what will be shared"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["indicators"].choices = _hub_indicator_choices()


class LexiconForm(VersionedDataForm):
    """The lexicon as YAML, as in the repository file; saving makes a new version."""

    data_label = _("Lexicon (YAML)")
    max_length = 256 * 1024
    not_a_mapping = _("The lexicon must be a mapping with a version and indicators.")
