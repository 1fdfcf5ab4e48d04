"""Synthetic helpline history for "Hulplijn Demo": ended chats with codings, so the
statistics page shows something. Everything is generated; no real conversation is used."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from zichtbaar.accounts.models import Organisation, User

from . import codebook as codebook_mod
from .models import CannedResponse, Coding, Conversation, ReturningVisitor
from .services import code_hash, settings_for

DEMO_ORGANISATION = "Hulplijn Demo"
DEMO_CHATS = 240
CANNED = [
    ("Welkom", "Fijn dat je de chat hebt gevonden. Waar wil je het over hebben?"),
    ("Veilig om te praten?", "Is het nu veilig voor je om te chatten? Kan iemand meekijken?"),
    ("Acuut gevaar", "Ben je nu in gevaar? Bel dan 112. Als je wilt, blijf ik in de chat."),
    ("Veilig Thuis", "Veilig Thuis is dag en nacht bereikbaar via 0800-2000, gratis en anoniem."),
    ("Nog daar?", "Ben je er nog? Neem gerust de tijd."),
    ("Afsluiten", "Dank je dat je je verhaal deelde. Je kunt altijd terugkomen."),
]


def _pick(rng: random.Random, field: codebook_mod.Field, multi_max: int = 2) -> object:
    values = [o.value for o in field.options]
    if field.kind == "multi":
        return sorted(set(rng.sample(values, rng.randint(0 if not field.required else 1,
                                                          min(multi_max, len(values))))))
    return rng.choice(values)


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    organisation = Organisation.objects.filter(name=DEMO_ORGANISATION).first()
    if organisation is None:
        return []
    config = settings_for(organisation.pk)
    config.always_open = True
    config.save()
    for title, text in CANNED:
        CannedResponse.objects.get_or_create(organisation=organisation, title=title,
                                             defaults={"text": text})
    if Coding.objects.filter(organisation=organisation).exists():
        progress("helpline demo history present")
        return []
    counsellor = User.objects.filter(username="counsellor").first()
    rng = random.Random(2026)  # synthetic demo data, not security
    book = codebook_mod.load()
    now = timezone.now()
    visitors: list[ReturningVisitor] = []
    for n in range(DEMO_CHATS):
        when = now - timedelta(days=rng.randint(1, 330), hours=rng.randint(0, 10))
        visitor = None
        if visitors and rng.random() < 0.2:
            visitor = rng.choice(visitors)
        elif rng.random() < 0.3:
            visitor = ReturningVisitor.objects.create(
                organisation=organisation, code_hash=code_hash(organisation.pk, f"demo-{n}"),
                first_seen=timezone.localdate(when))
            visitors.append(visitor)
        conversation = Conversation.objects.create(
            organisation=organisation, visitor=visitor, status=Conversation.Status.ENDED,
            end_reason=Conversation.EndReason.COUNSELLOR, counsellor=counsellor, consent=True,
            accepted_at=when + timedelta(minutes=rng.randint(1, 15)),
            ended_at=when + timedelta(minutes=rng.randint(20, 70)),
            transcript_deleted_at=when + timedelta(days=30) if (now - when).days > 30 else None)
        Conversation.objects.filter(pk=conversation.pk).update(queued_at=when)
        values = {f.name: _pick(rng, f) for f in book.fields}
        trafficking = rng.random() < 0.35
        values["help_question_trafficking"] = "yes" if trafficking else rng.choice(["no", "unsure"])
        if trafficking:
            values["exploitation_forms"] = ["sexual"] if rng.random() < 0.85 else ["criminal"]
        if "parent" not in values.get("perpetrator_relation", []):
            values["alternative_route"] = None
        elif not values.get("alternative_route"):
            values["alternative_route"] = "police_avim"
        Coding.objects.create(conversation=conversation, organisation=organisation,
                              codebook_version=book.version, values=values, complete=True,
                              coded_by=counsellor, coded_at=conversation.ended_at,
                              chat_date=timezone.localdate(when),
                              first_contact=visitor is None or visitor.first_seen == when.date())
    progress(f"{DEMO_CHATS} synthetic coded helpline chats")
    return []
