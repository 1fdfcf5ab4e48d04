"""Synthetic signals, persons and sharing agreements for the demo organisations (idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from zichtbaar.accounts.models import Organisation, User

from . import services
from .models import Channel, SharingAgreement, Signal
from .services import PersonInput, SignalInput
from .sharing import LegalBasis

AGREEMENTS = [
    ("Politie AVIM Demo", LegalBasis.WPG, "Opsporing en bescherming bij mensenhandel",
     ["reference", "received_at", "urgency", "forms", "indicators", "score", "minor",
      "municipality", "description", "victim_identity", "suspect_identity", "linkage_keys"]),
    ("Arbeidsinspectie Demo", LegalBasis.PUBLIC_TASK, "Toezicht op arbeidsuitbuiting",
     ["reference", "received_at", "forms", "indicators", "score", "municipality",
      "description"]),
    ("Veilig Thuis Demo", LegalBasis.JEUGDWET, "Bescherming van minderjarigen",
     ["reference", "received_at", "urgency", "forms", "minor", "municipality", "description",
      "victim_age_band"]),
    ("Gemeente Zorgcoördinatie Demo", LegalBasis.PUBLIC_TASK, "Zorg en opvang slachtoffers",
     ["reference", "received_at", "forms", "municipality", "victim_age_band"]),
]

# (external ref, channel, source org, indicators, forms, minor, municipality, description, persons)
SIGNALS = [
    ("demo-1", Channel.PUBLIC_FORM, None, ["FL07", "FL11", "NS06"], ["labour"], False,
     "Westland", "Synthetisch: arbeiders slapen in de kas en geven hun paspoort af.",
     [PersonInput(given_name="Ion", surname="Demoescu", date_of_birth="1994-04-12", sex="m")]),
    ("demo-2", Channel.API, "Politie AVIM Demo", ["NS01", "FL06", "UR02"], ["sexual"], True,
     "Utrecht", "Synthetisch: meisje (16) wordt dit weekend naar een andere stad gebracht.",
     [PersonInput(given_name="Lisa", surname="de Demo", date_of_birth="2010-05-03", sex="f")]),
    ("demo-3", Channel.PROFESSIONAL, "Gemeente Zorgcoördinatie Demo", ["CE01", "CE02", "VU03"],
     ["criminal"], True, "Rotterdam", "Synthetisch: jongen moet straatboete terugbetalen.",
     [PersonInput(given_name="Sem", surname="Voorbeeld", date_of_birth="2009-09-09", sex="m")]),
    ("demo-4", Channel.PUBLIC_FORM, None, ["VU02"], [], None, "Zwolle",
     "Synthetisch: vage zorg over de buren.", []),
    ("demo-5", Channel.API, "Arbeidsinspectie Demo", ["FL07", "FL08", "FL09"], ["labour"], False,
     "Venlo", "Synthetisch: schuld bij uitzendbureau groeit steeds.",
     [PersonInput(given_name="ION", surname="Demoescu", date_of_birth="1994-04-12", sex="m")]),
]


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    desk = Organisation.objects.filter(name="Meldpunt Demo").first()
    if desk is None:
        progress("hub: accounts demo missing, skipped")
        return []
    admin = User.objects.filter(username="analyst").first()
    for name, basis, purpose, fields in AGREEMENTS:
        partner = Organisation.objects.filter(name=name).first()
        if partner and not SharingAgreement.objects.filter(organisation=desk,
                                                           partner=partner).exists():
            services.agreement_create(actor=None, organisation=desk, partner=partner,
                                      legal_basis=basis, purpose=purpose, allowed_fields=fields)
    created = 0
    for ref, channel, source, indicators, forms, minor, place, text, persons in SIGNALS:
        if Signal.objects.filter(external_ref=ref).exists():
            continue
        result = services.signal_submit(
            channel=channel, organisation=desk,
            source_organisation=Organisation.objects.filter(name=source).first(),
            data=SignalInput(indicators=indicators, forms=forms, minor=minor,
                             municipality=place, description=text, persons=persons,
                             external_ref=ref))
        created += 1
        if ref == "demo-1":
            inspectorate = Organisation.objects.filter(name="Arbeidsinspectie Demo").first()
            if inspectorate:
                services.handover_create(actor=admin, signal=result.signal,
                                         partner=inspectorate)
    progress(f"hub: {created} signals, {len(AGREEMENTS)} agreements")
    return []
