"""Input shape only: lengths, choices, dates, file types. Decisions live in the services."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zichtbaar.accounts.models import User

from . import uploads
from .codebook import Codebook, label
from .models import CloseReason, Outcome, PersonRole
from .services import PersonInput, SignalInput
from .sharing import LegalBasis, ShareField

MINOR_CHOICES = [("unknown", _("I don't know")), ("yes", _("Yes")), ("no", _("No"))]
SEX_CHOICES = [("", _("Unknown")), ("f", _("Female")), ("m", _("Male")), ("x", _("Other"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "application/pdf,image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > uploads.MAX_FILES:
            raise ValidationError(_("You can add at most %(n)d files."),
                                  params={"n": uploads.MAX_FILES})
        checked, errors = [], []
        for upload in files:
            try:
                checked.append(uploads.check_upload(upload))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return checked


def _phone(value: str) -> str:
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a valid phone number.")) from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("Enter a valid phone number."))
    return value.strip()


class _DateField(forms.DateField):
    def clean(self, value: Any) -> Any:
        result = super().clean(value)
        if result and (result > timezone.localdate() or result.year < 1900):
            raise ValidationError(_("Enter a date of birth in the past."))
        return result


class ReportForm(forms.Form):
    """The public reporting form: plain-language questions, everything optional but the story."""

    professional = False

    forms_ = forms.MultipleChoiceField(label=_("What is it about?"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    minor = forms.ChoiceField(label=_("Is someone under 18 involved?"), choices=MINOR_CHOICES,
                              initial="unknown", widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("What happened?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Describe what you saw or heard, when and how often."))
    municipality = forms.CharField(label=_("Where (town or city)?"), max_length=100,
                                   required=False)
    people_text = forms.CharField(
        label=_("Who is involved, as far as you know?"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example age, language, appearance, or a nickname."))
    victim_given_name = forms.CharField(label=_("First name of the person concerned"),
                                        max_length=100, required=False)
    victim_surname = forms.CharField(label=_("Surname of the person concerned"),
                                     max_length=100, required=False)
    victim_date_of_birth = _DateField(label=_("Date of birth of the person concerned"),
                                      required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))
    victim_phone = forms.CharField(label=_("Phone number of the person concerned"),
                                   max_length=40, required=False)
    contact_phone = forms.CharField(label=_("Your phone number"), max_length=40, required=False)
    contact_email = forms.EmailField(label=_("Your e-mail address"), max_length=254,
                                     required=False)
    attachments = MultipleFileField(
        label=_("Files (optional)"), required=False,
        help_text=_("At most 3 files of 4 MB each: PDF, JPEG, PNG or WebP."))

    def __init__(self, *args: Any, codebook: Codebook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codebook = codebook
        language = (get_language() or "nl")[:2]
        self.fields["forms_"].choices = [
            (f["code"], label(f["question"] if not self.professional and f.get("question")
                              else f["label"], language))
            for f in codebook.data["forms"]]
        self.indicator_fields: list[str] = []
        for group in codebook.groups(public_only=not self.professional):
            name = f"ind_{group['code']}"
            self.fields[name] = forms.MultipleChoiceField(
                label=label(group["label"], language), required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=[(i["code"], label(i["label"] if self.professional else i["question"],
                                           language)) for i in group["indicators"]])
            self.indicator_fields.append(name)

    def clean_victim_phone(self) -> str:
        return _phone(self.cleaned_data.get("victim_phone", ""))

    def clean_contact_phone(self) -> str:
        return _phone(self.cleaned_data.get("contact_phone", ""))

    def indicator_bound_fields(self) -> list[Any]:
        return [self[name] for name in self.indicator_fields]

    def _persons(self) -> list[PersonInput]:
        data = self.cleaned_data
        dob = data.get("victim_date_of_birth")
        return [PersonInput(role=PersonRole.VICTIM, given_name=data["victim_given_name"],
                            surname=data["victim_surname"],
                            date_of_birth=dob.isoformat() if dob else "",
                            phone=data["victim_phone"])]

    def _contact(self) -> str:
        parts = [self.cleaned_data.get("contact_phone", ""),
                 self.cleaned_data.get("contact_email", "")]
        return "\n".join(p for p in parts if p)

    def to_input(self) -> SignalInput:
        data = self.cleaned_data
        indicators = sorted({c for name in self.indicator_fields for c in data.get(name, [])})
        minor = {"yes": True, "no": False}.get(data["minor"])
        return SignalInput(indicators=indicators, forms=data["forms_"], minor=minor,
                           municipality=data["municipality"], description=data["description"],
                           people_text=data["people_text"], reporter_contact=self._contact(),
                           persons=self._persons(), attachments=data.get("attachments") or [])


class ProfessionalForm(ReportForm):
    """For signed-in partners: the full codebook, suspect and recruitment fields."""

    professional = True

    victim_sex = forms.ChoiceField(label=_("Sex of the person concerned"), choices=SEX_CHOICES,
                                   required=False)
    victim_email = forms.EmailField(label=_("E-mail of the person concerned"), required=False)
    suspect_given_name = forms.CharField(label=_("First name of the suspect"), max_length=100,
                                         required=False)
    suspect_surname = forms.CharField(label=_("Surname of the suspect"), max_length=100,
                                      required=False)
    suspect_phone = forms.CharField(label=_("Phone number of the suspect"), max_length=40,
                                    required=False)
    recruitment_method = forms.ChoiceField(label=_("Recruitment method"), required=False)
    recruiter_relation = forms.ChoiceField(label=_("Relation to the recruiter"), required=False)

    def __init__(self, *args: Any, codebook: Codebook, **kwargs: Any) -> None:
        super().__init__(*args, codebook=codebook, **kwargs)
        language = (get_language() or "nl")[:2]
        empty = [("", "—")]
        self.fields["recruitment_method"].choices = empty + codebook.choices(
            "recruitment_methods", language)
        self.fields["recruiter_relation"].choices = empty + codebook.choices(
            "recruiter_relations", language)
        self.fields["forms_"].label = _("Forms of exploitation")
        self.fields["contact_phone"].label = _("Phone number of the reporter")
        self.fields["contact_email"].label = _("E-mail of the reporter")

    def clean_suspect_phone(self) -> str:
        return _phone(self.cleaned_data.get("suspect_phone", ""))

    def _persons(self) -> list[PersonInput]:
        data = self.cleaned_data
        victim = super()._persons()[0]
        victim.sex, victim.email = data.get("victim_sex", ""), data.get("victim_email", "")
        suspect = PersonInput(role=PersonRole.SUSPECT, given_name=data["suspect_given_name"],
                              surname=data["suspect_surname"], phone=data["suspect_phone"])
        return [victim, suspect]

    def to_input(self) -> SignalInput:
        result = super().to_input()
        result.recruitment_method = self.cleaned_data.get("recruitment_method", "")
        result.recruiter_relation = self.cleaned_data.get("recruiter_relation", "")
        return result


class FollowUpForm(forms.Form):
    receipt_code = forms.CharField(label=_("Your receipt code"), max_length=40,
                                   help_text=_("For example ABCD-EFGH-JKMN-PQRS."))
    text = forms.CharField(label=_("What would you like to add?"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Files (optional)"), required=False)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none(),
                                      required=False)

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users


class RequestInfoForm(forms.Form):
    text = forms.CharField(label=_("What information is needed?"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=CloseReason.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(forms.Form):
    into = forms.IntegerField(label=_("Merge into signal number"), min_value=1)


class HandoverForm(forms.Form):
    partner = forms.IntegerField(min_value=1, max_value=2**62)


class HandoverConfirmForm(forms.Form):
    """The confirmation step: what was shown (partner, agreement) and what was ticked."""

    partner = forms.IntegerField(min_value=1, max_value=2**62)
    agreement = forms.IntegerField(min_value=1, max_value=2**62)
    confirm = forms.BooleanField(required=False)
    acknowledge_uncoded = forms.BooleanField(required=False)


class SuggestionForm(forms.Form):
    code = forms.RegexField(regex=r"^([A-Z]{2}[0-9]{2}|minor)$", max_length=8)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class AgreementForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partner organisation"), queryset=None)  # type: ignore[arg-type]
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    basis_detail = forms.CharField(label=_("Legal provision"), max_length=300, required=False,
                                   help_text=_("For example the article of law that applies."))
    purpose = forms.CharField(label=_("Purpose"), max_length=300)
    allowed_fields = forms.MultipleChoiceField(label=_("Fields that may be shared"),
                                               choices=ShareField.choices,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, partners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners


class JsonDataForm(forms.Form):
    """Admins edit a codebook or rule set as JSON; the service validates against the schema."""

    data = forms.CharField(label=_("Content (JSON)"), max_length=200_000,
                           widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))
    note = forms.CharField(label=_("What changed?"), max_length=300)

    def clean_data(self) -> Any:
        try:
            value = json.loads(self.cleaned_data["data"])
        except json.JSONDecodeError as exc:
            raise ValidationError(_("This is not valid JSON (line %(line)d, column %(col)d)."),
                                  params={"line": exc.lineno, "col": exc.colno}) from None
        if not isinstance(value, dict):
            raise ValidationError(_("The content must be a JSON object."))
        return value


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name of the system using this token"), max_length=100)


class ExportForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period_start") and data.get("period_end") and \
                data["period_start"] > data["period_end"]:
            raise ValidationError(_("The start of the period must be before its end."))
        return data


# --- rights and retention ------------------------------------------------------------------

class RetentionForm(forms.Form):
    """A desk's retention periods; bounded so a typo can neither erase at once nor keep
    data for decades."""

    closed_no_action_days = forms.IntegerField(
        label=_("Closed without handover: keep for (days)"), min_value=30, max_value=3650)
    closed_handed_over_days = forms.IntegerField(
        label=_("Closed after a handover: keep for (days)"), min_value=30, max_value=3650)
    merged_days = forms.IntegerField(
        label=_("Merged duplicate: keep for (days)"), min_value=30, max_value=3650)


class PersonLookupForm(forms.Form):
    """Find a data subject's records by signal reference or by identifiers. Identifiers are
    turned into the keyed hashes and compared; they are never stored or logged."""

    reference = forms.CharField(label=_("Signal reference"), max_length=12, required=False,
                                help_text=_("For example S-000123."))
    given_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    surname = forms.CharField(label=_("Surname"), max_length=100, required=False)
    date_of_birth = _DateField(label=_("Date of birth"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)

    def clean_reference(self) -> int | None:
        value = self.cleaned_data["reference"].strip().upper().removeprefix("S-")
        if not value:
            return None
        if not value.isdigit():
            raise ValidationError(_("A reference looks like S-000123."))
        return int(value)

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name_dob = data.get("given_name") and data.get("surname") and data.get("date_of_birth")
        if not (data.get("reference") or name_dob or data.get("phone") or data.get("email")):
            raise ValidationError(_("Give a signal reference, or first name, surname and date "
                                    "of birth, or a phone number or e-mail address."))
        return data

    def to_person(self) -> PersonInput:
        data = self.cleaned_data
        born = data.get("date_of_birth")
        return PersonInput(given_name=data.get("given_name", ""),
                           surname=data.get("surname", ""),
                           date_of_birth=born.isoformat() if born else "",
                           phone=data.get("phone", ""), email=data.get("email", ""))


class SubjectAccessForm(forms.Form):
    purpose = forms.CharField(label=_("Purpose"), max_length=300,
                              help_text=_("For example: access request of the data subject, "
                                          "received on 3 March."))
    format = forms.ChoiceField(label=_("Format"), choices=[
        ("html", _("Readable page (print or save as PDF)")), ("json", _("JSON"))])


class ErasureRequestForm(forms.Form):
    note = forms.CharField(label=_("Request and how the identity was checked"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ErasureDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve and erase")),
                                          ("reject", _("Reject"))])
