"""Helpline referrals become hub signals with their coded fields (idempotent per referral)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from .models import Channel, PersonRole, Signal
from .services import HubError, PersonInput, SignalInput, signal_submit

log = logging.getLogger(__name__)

MINOR_BANDS = {"under_12": True, "12_15": True, "16_17": True, "18_23": False,
               "24_plus": False}
AGE_BANDS = {"under_12": "<12", "12_15": "12-17", "16_17": "12-17", "18_23": "18-23",
             "24_plus": "24+"}
SEX = {"girl_woman": "f", "boy_man": "m", "other": "x"}
RELATION = {"partner_loverboy": "intimate_partner", "parent": "family",
            "other_family": "family", "acquaintance": "friend", "stranger": "other",
            "network": "other"}
RECRUITMENT = {"social_media": "internet", "online_other": "internet", "family": "family",
               "job_offer": "job_offer", "school_friends": "school_or_care", "other": "other",
               "unknown": "unknown"}
REFERRED_TO = {"police": "police", "veilig_thuis": "veilig_thuis", "care": "municipality",
               "comensha": "care_ngo"}


def _first(value: Any) -> str:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def referral_to_input(coding: Mapping[str, Any], referred_to: list[str]) -> SignalInput:
    """Map the helpline's chat codebook onto the hub codebook; keep the original codes too."""
    band = _first(coding.get("age_band"))
    forms = [f for f in _list(coding.get("exploitation_forms"))
             if f in {"sexual", "labour", "criminal", "other"}]
    indicators = ["UR01"] if _first(coding.get("risk_level")) == "acute" else []
    victim = PersonInput(role=PersonRole.VICTIM, sex=SEX.get(_first(coding.get("gender")), ""),
                         age_band=AGE_BANDS.get(band, ""))
    return SignalInput(
        indicators=indicators, forms=forms, minor=MINOR_BANDS.get(band),
        recruiter_relation=RELATION.get(_first(coding.get("perpetrator_relation")), ""),
        recruitment_method=RECRUITMENT.get(_first(coding.get("recruitment_channel")), ""),
        persons=[victim], coded_fields=dict(coding),
        extra_proposals=[REFERRED_TO[r] for r in referred_to if r in REFERRED_TO])


def on_referral_created(sender: Any, *, referral_id: int, organisation_id: int,
                        coding: Mapping[str, Any], codebook_version: str = "",
                        referred_to: list[str] | None = None, consent: bool = False,
                        actor_id: int | None = None, **kwargs: Any) -> Signal | None:
    """Create the signal once; a repeated delivery of the same referral changes nothing."""
    if not consent:
        log.warning("helpline referral %s arrived without consent; ignored", referral_id)
        return None
    existing = Signal.objects.filter(helpline_referral_id=referral_id).first()
    if existing is not None:
        return existing
    from zichtbaar.accounts.models import Organisation, User

    data = referral_to_input(coding or {}, list(referred_to or []))
    data.coded_fields = {"helpline_codebook": codebook_version, **data.coded_fields}
    try:
        with transaction.atomic():
            return signal_submit(
                channel=Channel.HELPLINE, data=data,
                actor=User.objects.filter(pk=actor_id).first() if actor_id else None,
                source_organisation=Organisation.objects.filter(pk=organisation_id).first(),
                helpline_referral_id=referral_id).signal
    except IntegrityError:
        return Signal.objects.filter(helpline_referral_id=referral_id).first()
    except HubError:
        log.exception("helpline referral %s could not become a signal", referral_id)
        return None
