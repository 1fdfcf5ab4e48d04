"""User-facing sentences for input errors and warnings, in Dutch and English.

The library raises typed errors (code, row, column); this module turns them
into one sentence in the user's language, for the CLI and the web page.
Templates use ``{row}``, ``{column}``, ``{value}`` and a few codes' extra
details; missing fields render as "?".
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

__all__ = ["MESSAGES", "message_for", "warning"]

MESSAGES: dict[str, dict[str, str]] = {
    "empty": {
        "nl": "Het bestand bevat geen gegevens.",
        "en": "The file contains no data.",
    },
    "missing_column": {
        "nl": "Kolom '{column}' ontbreekt of heeft geen naam (regel {row}).",
        "en": "Column '{column}' is missing or has no name (line {row}).",
    },
    "duplicate_column": {
        "nl": "Kolom '{column}' komt twee keer voor in de kopregel (regel {row}).",
        "en": "Column '{column}' appears twice in the header (line {row}).",
    },
    "not_binary": {
        "nl": "Regel {row}, kolom '{column}': een lijst mag alleen 0 of 1 bevatten, "
              "gevonden '{value}'.",
        "en": "Line {row}, column '{column}': a list may only contain 0 or 1, "
              "found '{value}'.",
    },
    "negative_count": {
        "nl": "Regel {row}, kolom '{column}': een aantal kan niet negatief zijn ('{value}').",
        "en": "Line {row}, column '{column}': a count cannot be negative ('{value}').",
    },
    "fractional_count": {
        "nl": "Regel {row}, kolom '{column}': een aantal moet een geheel getal zijn "
              "('{value}').",
        "en": "Line {row}, column '{column}': a count must be a whole number ('{value}').",
    },
    "bad_count": {
        "nl": "Regel {row}, kolom '{column}': '{value}' is geen getal.",
        "en": "Line {row}, column '{column}': '{value}' is not a number.",
    },
    "all_zero_history": {
        "nl": "Regel {row}: deze persoon staat op geen enkele lijst (alleen nullen); "
              "wie niemand registreerde kan niet in de gegevens staan.",
        "en": "Line {row}: this person is on no list (all zeros); people nobody "
              "registered cannot be in the data.",
    },
    "too_few_lists": {
        "nl": "Er zijn minstens twee lijsten nodig; gevonden: {n_lists}.",
        "en": "At least two lists are needed; found: {n_lists}.",
    },
    "lists_never_overlap": {
        "nl": "Sommige lijsten hebben niemand gemeen: {pairs}. Het model zet die "
              "samenhang op min oneindig.",
        "en": "Some lists have no one in common: {pairs}. The model sets those "
              "interactions to minus infinity.",
    },
    "list_isolated": {
        "nl": "Lijst '{column}' heeft met geen enkele andere lijst iemand gemeen.",
        "en": "List '{column}' has no one in common with any other list.",
    },
    "no_overlap_at_all": {
        "nl": "Geen twee lijsten hebben iemand gemeen; dan is geen schatting mogelijk.",
        "en": "No two lists have anyone in common; no estimate is possible.",
    },
    "stratum_no_overlap": {
        "nl": "Groep '{stratum}': de lijsten overlappen niet, dus geen schatting.",
        "en": "Group '{stratum}': the lists do not overlap, so no estimate.",
    },
    "stratum_too_small": {
        "nl": "Groep '{stratum}': te weinig gegevens ({observed} personen) voor een schatting.",
        "en": "Group '{stratum}': too little data ({observed} people) for an estimate.",
    },
    "stratum_failed": {
        "nl": "Groep '{stratum}': geen model te schatten ({reason}).",
        "en": "Group '{stratum}': no model can be estimated ({reason}).",
    },
    "no_mle": {
        "nl": "Met deze gegevens heeft dit model geen eindige schatting.",
        "en": "With these data this model has no finite estimate.",
    },
    "not_identifiable": {
        "nl": "Met deze gegevens is dit model niet te schatten (niet identificeerbaar).",
        "en": "With these data this model cannot be estimated (not identifiable).",
    },
    "no_mle_not_identifiable": {
        "nl": "Met deze gegevens is dit model niet te schatten.",
        "en": "With these data this model cannot be estimated.",
    },
    "no_valid_model": {
        "nl": "Geen enkel kandidaatmodel is met deze gegevens te schatten.",
        "en": "No candidate model can be estimated from these data.",
    },
    "too_many_lists": {
        "nl": "Alle modellen doorrekenen kan tot zes lijsten; kies 'stepwise'.",
        "en": "Searching all models works up to six lists; choose 'stepwise'.",
    },
    "file_not_found": {
        "nl": "Bestand '{path}' is niet gevonden of niet leesbaar.",
        "en": "File '{path}' was not found or cannot be read.",
    },
    "not_available": {
        "nl": "Methode '{method}' is in deze installatie niet beschikbaar.",
        "en": "Method '{method}' is not available in this installation.",
    },
    "not_csv": {
        "nl": "Dit is geen leesbaar CSV-bestand (tekst met kolommen).",
        "en": "This is not a readable CSV file (text with columns).",
    },
    "too_many_fields": {
        "nl": "Regel {row} heeft {n_values} waarden, maar de kopregel heeft {n_columns} kolommen.",
        "en": "Line {row} has {n_values} values but the header has {n_columns} columns.",
    },
    "unknown_column": {
        "nl": "Kolom '{column}' bestaat niet of is geen kenmerk (covariaat) in dit bestand.",
        "en": "Column '{column}' does not exist or is not a covariate in this file.",
    },
    "bad_option": {
        "nl": "Ongeldige keuze voor {option}: '{value}'. Mogelijk: {choices}.",
        "en": "Invalid choice for {option}: '{value}'. Possible: {choices}.",
    },
    "neg_inf_terms": {
        "nl": "Niemand staat op beide lijsten van {terms}; die samenhang staat in het model "
              "op min oneindig (zoals SparseMSE).",
        "en": "No one is on both lists of {terms}; these interactions are set to minus "
              "infinity in the model (as SparseMSE does).",
    },
    "did_not_converge": {
        "nl": "De modelschatting is niet geconvergeerd; behandel de uitkomst met zorg.",
        "en": "The model fit did not converge; treat the result with care.",
    },
    "singular_information": {
        "nl": "De informatiematrix is singulier; het modelafhankelijke interval ontbreekt.",
        "en": "The information matrix is singular; no model-conditional interval.",
    },
    "profile_upper_open": {
        "nl": "De bovengrens van het profiel-interval is niet begrensd (boven {limit}).",
        "en": "The upper end of the profile interval is unbounded (above {limit}).",
    },
    "model_conditional": {
        "nl": "Dit interval gaat uit van het gekozen model en is daardoor te smal; de "
              "bootstrap ('--ci bootstrap') neemt de modelkeuze mee.",
        "en": "This interval takes the chosen model as given and is therefore too narrow; "
              "the bootstrap ('--ci bootstrap') accounts for the model choice.",
    },
    "bootstrap_failed": {
        "nl": "{n_failed} van de {nboot} bootstrap-herhalingen gaven geen schatting.",
        "en": "{n_failed} of {nboot} bootstrap replicates gave no estimate.",
    },
    "bootstrap_one_sided": {
        "nl": "Alle bootstrap-herhalingen liggen aan één kant van de schatting; het "
              "BCa-interval is onbetrouwbaar.",
        "en": "All bootstrap replicates fall on one side of the estimate; the BCa "
              "interval is unreliable.",
    },
    "fallback_model": {
        "nl": "Model {model} heeft geen eindige, identificeerbare schatting ({reason}); "
              "gebruikt: {fallback}.",
        "en": "Model {model} has no finite, identifiable estimate ({reason}); "
              "used instead: {fallback}.",
    },
    "method_note": {
        "nl": "Opmerking bij de methode: {text}",
        "en": "Note on the method: {text}",
    },
    "stratum_missing_lists": {
        "nl": "Groep '{stratum}': lijst(en) {lists} bevatten niemand en tellen hier niet mee.",
        "en": "Group '{stratum}': list(s) {lists} contain no one and are left out here.",
    },
    "covariates_unavailable": {
        "nl": "Schatten met covariaten is in deze installatie nog niet beschikbaar.",
        "en": "Estimation with covariates is not available in this installation yet.",
    },
    "ci_not_for_method": {
        "nl": "Intervalmethode '{ci}' past niet bij methode '{method}'.",
        "en": "Interval method '{ci}' does not fit method '{method}'.",
    },
    "bad_shape": {
        "nl": "De vangstgeschiedenissen passen niet bij elkaar: {message}",
        "en": "The capture histories do not fit together: {message}",
    },
    "rcapture_too_many_lists": {
        "nl": "De Rcapture-modellen kunnen hier met hoogstens {max_lists} lijsten werken.",
        "en": "The Rcapture models work with at most {max_lists} lists here.",
    },
    "rcapture_structural_zeros": {
        "nl": "De Rcapture-modellen kennen geen structurele nullen; kies een log-lineaire "
              "methode.",
        "en": "The Rcapture models do not support structural zeros; choose a log-linear "
              "method.",
    },
    "lcmcr_structural_zeros": {
        "nl": "Het latente-klassenmodel (LCMCR) kent geen structurele nullen; kies een "
              "log-lineaire methode.",
        "en": "The latent-class model (LCMCR) does not support structural zeros; choose a "
              "log-linear method.",
    },
    "sparse_overlap": {
        "nl": "Te weinig overlap: maar {in_two_or_more} van de {observed} personen ({percent}%) "
              "staan op meer dan één lijst en {empty_cells} van de {cells} combinaties van "
              "lijsten zijn leeg. Elke schatting is hier grotendeels een gok; lees het "
              "interval als ondergrens van de onzekerheid.",
        "en": "Too little overlap: only {in_two_or_more} of the {observed} people ({percent}%) "
              "are on more than one list and {empty_cells} of the {cells} list combinations "
              "are empty. Any estimate here is largely a guess; read the interval as the "
              "least of the uncertainty.",
    },
    "below_lower_bound": {
        "nl": "Het interval (tot {high}) ligt onder Chao's ondergrens {bound} (interval "
              "{bound_low}-{bound_high}): de lijsten missen waarschijnlijk dezelfde, moeilijk "
              "bereikbare mensen (heterogeniteit) en de schatting is te laag.",
        "en": "The interval (up to {high}) lies below Chao's lower bound {bound} (interval "
              "{bound_low}-{bound_high}): the lists probably miss the same hard-to-reach "
              "people (heterogeneity) and the estimate is too low.",
    },
    "models_disagree": {
        "nl": "Het heterogeniteitsmodel {model} schat {estimate} ({low}-{high}); dat interval "
              "overlapt niet met dat van deze schatting ({own_low}-{own_high}). De uitkomst "
              "hangt van de modelkeuze af: rapporteer beide.",
        "en": "The heterogeneity model {model} estimates {estimate} ({low}-{high}); that "
              "interval does not overlap this estimate's ({own_low}-{own_high}). The result "
              "depends on the choice of model: report both.",
    },
    "estimate_not_finite": {
        "nl": "Het model geeft geen eindige schatting.",
        "en": "The model gives no finite estimate.",
    },
}


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def message_for(error: Any, lang: str = "nl") -> str:
    """One sentence for an error or warning (anything with ``code``) in ``lang``.

    Falls back to English, then to the error's own message.
    """
    code = getattr(error, "code", None) or (error.get("code") if isinstance(error, Mapping)
                                            else None)
    fields: dict[str, Any] = {}
    if isinstance(error, Mapping):
        fields.update(error)
    else:
        for name in ("row", "column", "message"):
            fields[name] = getattr(error, name, None)
        fields.update(getattr(error, "details", {}) or {})
    for key, value in list(fields.items()):
        if isinstance(value, list | tuple):
            fields[key] = ", ".join(str(v) for v in value)
    fields = _Defaults({k: v for k, v in fields.items() if v is not None})
    templates = MESSAGES.get(str(code)) or _covariate_messages().get(str(code))
    if not templates:
        return str(fields.get("message", code))
    template = templates.get(lang) or templates["en"]
    text = string.Formatter().vformat(template, (), fields)
    # A sentence about the whole file has no line to point at.
    return re.sub(r" \((regel|line) \?\)", "", text)


def _covariate_messages() -> Mapping[str, Mapping[str, str]]:
    """The covariate model's own codes (kept beside that model, looked up lazily)."""
    try:
        from .covariates import MESSAGES as covariate_messages
    except ImportError:  # pragma: no cover - covariates needs pandas
        return {}
    return covariate_messages


def warning(code: str, **details: Any) -> dict[str, Any]:
    """A result warning: its code, both sentences and the details that fill them."""
    item = {"code": code, **details}
    return {"code": code, "message_nl": message_for(item, "nl"),
            "message_en": message_for(item, "en"), **details}
