"""Input shape of the upload form. The CSV itself is checked by the library, at the form."""

from __future__ import annotations

import logging
import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zichtbaar.estimate.histories import InputError

from . import conf, engine

logger = logging.getLogger(__name__)

METHOD_CHOICES = [
    ("stepwise", _("Stepwise selection (SparseMSE)")),
    ("aic", _("Best model by AIC")),
    ("bic", _("Best model by BIC")),
    ("main", _("Independence model (main effects only)")),
    ("lcmcr", _("Bayesian latent classes (LCMCR)")),
    ("rcapture", _("Heterogeneity models (Rcapture)")),
]
CI_CHOICES = [
    ("default", _("Default for the method")),
    ("model", _("Model-conditional")),
    ("profile", _("Profile likelihood")),
    ("bootstrap", _("Bootstrap with model selection (slow)")),
    ("none", _("No interval")),
]
LEVEL_CHOICES = [("0.9", "90%"), ("0.95", "95%"), ("0.99", "99%")]
COLUMN_RE = re.compile(r"^[\w .\-]{1,64}$")


def _column(value: str) -> str:
    value = value.strip()
    if value and not COLUMN_RE.match(value):
        raise forms.ValidationError(_("A column name has at most 64 letters, digits, spaces, "
                                      "dots, dashes or underscores."))
    return value


class RunForm(forms.Form):
    """Upload and settings. ``histories`` holds the parsed file after ``is_valid()``."""

    file = forms.FileField(
        label=_("Capture histories (CSV)"),
        help_text=_("One 0/1 column per list and a 'count' column, or one row per person. "
                    "Other columns (age band, gender, year) can be used as strata. "
                    "At most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    method = forms.ChoiceField(label=_("Method"), choices=METHOD_CHOICES, initial="stepwise")
    ci = forms.ChoiceField(label=_("Interval"), choices=CI_CHOICES, initial="default")
    strata = forms.CharField(
        label=_("Strata column"), required=False, max_length=64,
        help_text=_("Optional: estimate per value of this column, and for the total."))
    covariates = forms.CharField(
        label=_("Covariate columns"), required=False, max_length=300,
        help_text=_("Optional, comma-separated: model the lists together with these columns."))
    seed = forms.IntegerField(label=_("Seed"), initial=1234, min_value=0, max_value=2**31 - 1,
                              help_text=_("The same seed gives the same bootstrap and MCMC "
                                          "result."))
    level = forms.TypedChoiceField(label=_("Confidence level"), choices=LEVEL_CHOICES,
                                   initial="0.95", coerce=float)
    n_boot = forms.IntegerField(label=_("Bootstrap replicates"), initial=1000, min_value=100,
                                max_value=10000)
    pthresh = forms.FloatField(label=_("p-value threshold (stepwise)"), initial=0.02,
                               min_value=0.0001, max_value=0.5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.histories: Any = None

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > conf.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        data = upload.read(conf.MAX_UPLOAD_BYTES + 1)
        if len(data) > conf.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        if not data.strip():
            raise forms.ValidationError(_("The file is empty."))
        if b"\x00" in data:
            raise forms.ValidationError(_("This is not a CSV text file."))
        self.data_bytes = data
        return upload

    def clean_strata(self) -> str:
        return _column(self.cleaned_data.get("strata", ""))

    def clean_covariates(self) -> list[str]:
        raw = self.cleaned_data.get("covariates", "")
        columns = [_column(part) for part in raw.split(",") if part.strip()]
        if len(set(columns)) != len(columns):
            raise forms.ValidationError(_("A covariate column is named twice."))
        return columns

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        lang = "en" if (get_language() or "nl").startswith("en") else "nl"
        try:
            self.histories = engine.load(self.data_bytes, self.parameters())
        except engine.ColumnError as error:
            field = "strata" if error.column == data.get("strata") else "covariates"
            self.add_error(field, _("The file has no column '%(column)s'. Columns you can "
                                    "use here: %(available)s.") % {
                "column": error.column, "available": error.details["available"] or _("none")})
            return data
        except InputError as error:
            from zichtbaar.estimate.messages import message_for

            self.add_error("file", message_for(error, lang))
            return data
        except UnicodeDecodeError:
            self.add_error("file", _("This file is not text in UTF-8 encoding. Save it as "
                                     "'CSV UTF-8' and try again."))
            return data
        except Exception:  # a parser bug must still answer with a sentence, not a 500
            logger.exception("estimate upload could not be parsed")
            self.add_error("file", _("This file could not be read as capture histories."))
            return data
        if engine.incompatible(data["method"], data["ci"]):
            self.add_error("ci", _("This interval does not fit the chosen method; choose "
                                   "'Default for the method'."))
        if data.get("strata") and data.get("covariates"):
            self.add_error("covariates", _("Choose either a strata column or covariate "
                                           "columns, not both."))
        return data

    def parameters(self) -> engine.RunParameters:
        data = self.cleaned_data
        return engine.parameters_from({
            "method": data["method"], "ci": data["ci"], "strata": data.get("strata") or None,
            "covariates": data.get("covariates") or [], "seed": data["seed"],
            "level": data["level"], "n_boot": data["n_boot"], "pthresh": data["pthresh"],
        })


class HubRunForm(forms.Form):
    """A period of the hub's linked capture histories instead of an uploaded file."""

    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label=_("Method"), choices=METHOD_CHOICES, initial="stepwise")
    ci = forms.ChoiceField(label=_("Interval"), choices=CI_CHOICES, initial="default")
    strata = forms.ChoiceField(
        label=_("Strata column"), required=False,
        choices=[("", _("No strata")), ("age_band", _("Age band")), ("gender", _("Gender")),
                 ("form", _("Form of exploitation"))])
    seed = forms.IntegerField(label=_("Seed"), initial=1234, min_value=0, max_value=2**31 - 1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The end date lies before the start date."))
        if data.get("method") and data.get("ci") and engine.incompatible(data["method"],
                                                                          data["ci"]):
            self.add_error("ci", _("This interval does not fit the chosen method; choose "
                                   "'Default for the method'."))
        return data

    def parameters(self) -> engine.RunParameters:
        data = self.cleaned_data
        return engine.parameters_from({"method": data["method"], "ci": data["ci"],
                                       "strata": data.get("strata") or None,
                                       "seed": data["seed"]})
