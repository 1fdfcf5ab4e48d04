"""Queue, triage page, close with four eyes, handovers and the partner's view, helpline,
linkage keys, duplicate review and capture histories."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone

from zichtbaar.accounts.roles import Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.helpline.signals import referral_created
from zichtbaar.hub import selectors, services
from zichtbaar.hub.models import Channel, DuplicateCandidate, Person, Signal, Status

from .conftest import person, submit

pytestmark = pytest.mark.django_db


def test_queue_puts_urgent_first_then_score_and_shows_explanation(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    low = submit(indicators=["VU02"])
    high = submit(indicators=["FL07", "FL09", "FL05"])
    urgent = submit(indicators=["VU02"], minor=True)
    client = staff_client(Role.ANALYST, world.desk)
    html = client.get("/hub/").content.decode()
    assert html.index(urgent.reference) < html.index(high.reference) < html.index(low.reference)
    page = client.get(f"/hub/signalen/{high.pk}/").content.decode()
    explanation = page.split('data-testid="explanation"')[1].split("</table>")[0]
    for code in ("FL07", "FL09", "FL05"):
        assert code in explanation
    assert "Inhouden van identiteitsdocumenten" in explanation and "+3" in explanation
    assert AuditEntry.objects.filter(event="hub_signal_viewed", object_id=str(high.pk)).exists()


def test_closing_an_urgent_signal_needs_a_second_person(world, make_user) -> None:  # type: ignore[no-untyped-def]
    first = make_user(Role.ANALYST, world.desk, password=None)
    second = make_user(Role.ANALYST, world.desk, password=None)
    signal = submit(indicators=["UR01"])
    services.signal_close(actor=first, signal=signal, reason="no_indication")
    signal.refresh_from_db()
    assert signal.status == Status.CLOSE_PENDING
    with pytest.raises(services.HubError, match="second_person_required"):
        services.signal_close(actor=first, signal=signal, reason="no_indication")
    services.signal_close(actor=second, signal=signal, reason="no_indication")
    signal.refresh_from_db()
    assert signal.status == Status.CLOSED and signal.closed_by == second
    entry = AuditEntry.objects.get(event="hub_signal_closed")
    assert entry.detail["requested_by"] == first.pk


def test_ordinary_signal_closes_in_one_step_through_the_page(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(indicators=["VU02"])
    client = staff_client(Role.ANALYST, world.desk)
    client.post(f"/hub/signalen/{signal.pk}/close/", {"reason": "no_indication"})
    signal.refresh_from_db()
    assert signal.status == Status.CLOSED


def test_handover_shows_the_partner_only_agreed_fields_and_is_audited(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(indicators=["FL07"], forms=["labour"], minor=False, municipality="Venlo",
                    description="Synthetisch: kassen, paspoort ingenomen.",
                    reporter_contact="melder-geheim@example.invalid",
                    persons=[person(given_name="Ana", surname="Testova",
                                    date_of_birth="1990-02-03")])
    desk = staff_client(Role.ANALYST, world.desk)
    detail = desk.get(f"/hub/signalen/{signal.pk}/").content.decode()
    assert "Inspectie Test" in detail
    agreement = services.agreement_for(signal, world.inspectorate)
    desk.post(f"/hub/signalen/{signal.pk}/overdragen/",
              {"partner": world.inspectorate.pk, "agreement": agreement.pk, "confirm": "on"})
    handover = signal.handovers.get()
    entry = AuditEntry.objects.get(event="hub_handover_created")
    assert entry.purpose == "Toezicht arbeidsuitbuiting"
    assert entry.detail["legal_basis"] == "public_task"
    assert entry.detail["partner"] == world.inspectorate.pk
    assert entry.organisation_id == world.desk.pk and entry.actor_id is not None

    partner = staff_client(Role.PARTNER, world.inspectorate)
    html = partner.get(f"/hub/inbox/{handover.pk}/").content.decode()
    payload = html.split('data-testid="payload"')[1].split("</dl>")[0]
    assert "Venlo" in payload and "FL07" in payload
    local = timezone.localtime(signal.received_at)
    assert f"{local:%H:%M}" in payload and signal.received_at.isoformat() not in html
    assert "+00:00" not in html and "T0" not in payload
    for secret in ("Testova", "paspoort ingenomen", "melder-geheim", "1990-02-03"):
        assert secret not in html
    assert AuditEntry.objects.filter(event="hub_handover_viewed").count() == 1
    partner.post(f"/hub/inbox/{handover.pk}/", {"action": "acknowledge"})
    partner.post(f"/hub/inbox/{handover.pk}/", {"outcome": "case_opened"})
    handover.refresh_from_db()
    assert handover.acknowledged_at and handover.outcome == "case_opened"


def test_no_agreement_means_no_handover(world, make_user) -> None:  # type: ignore[no-untyped-def]
    signal = submit(forms=["sexual"], minor=True)
    with pytest.raises(services.HubError, match="no_agreement"):
        services.handover_create(actor=make_user(Role.ANALYST, world.desk, password=None),
                                 signal=signal, partner=world.veilig_thuis)
    assert not signal.handovers.exists()


def test_merge_unites_indicators_and_moves_persons(world, make_user) -> None:  # type: ignore[no-untyped-def]
    analyst = make_user(Role.ANALYST, world.desk, password=None)
    a = submit(indicators=["FL11"], persons=[person(given_name="Bo", surname="Test")])
    b = submit(indicators=["FL07"], persons=[person(given_name="Bo", surname="Test2")])
    services.signal_merge(actor=analyst, signal=b, into=a)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.indicators == ["FL07", "FL11"] and a.score == 4
    assert b.status == Status.MERGED and b.merged_into == a
    assert a.persons.count() == 2


def test_helpline_referral_becomes_one_signal(world, make_org) -> None:  # type: ignore[no-untyped-def]
    helpline = make_org("Hulplijn Test")
    payload = {"referral_id": 4711, "organisation_id": helpline.pk,
               "coding": {"exploitation_forms": ["sexual"], "age_band": "16_17",
                          "gender": "girl_woman", "risk_level": "acute",
                          "perpetrator_relation": ["partner_loverboy"]},
               "codebook_version": "2026.1", "referred_to": ["police", "veilig_thuis"],
               "consent": True, "actor_id": None}
    referral_created.send(sender="helpline", **payload)
    referral_created.send(sender="helpline", **payload)
    signal = Signal.objects.get()
    assert signal.channel == Channel.HELPLINE and signal.helpline_referral_id == 4711
    assert signal.source_organisation == helpline and signal.organisation == world.desk
    assert signal.minor is True and signal.urgent and "UR01" in signal.indicators
    assert signal.forms == ["sexual"] and signal.recruiter_relation == "intimate_partner"
    assert {p["partner_type"] for p in signal.routing_proposal} == {"police", "veilig_thuis"}
    assert signal.coded_fields["risk_level"] == "acute"
    victim = signal.persons.get()
    assert victim.sex == "f" and victim.age_band == "12-17"


def test_same_person_written_differently_gets_the_same_key(world) -> None:  # type: ignore[no-untyped-def]
    a = submit(persons=[person(given_name="José", surname="van der Berg",
                               date_of_birth="1999-07-01", phone="06 12345678")])
    b = submit(persons=[person(given_name="JOSE", surname="Berg, van der",
                               date_of_birth="1999-07-01", phone="+31612345678")])
    pa, pb = a.persons.get(), b.persons.get()
    assert pa.key_name_dob and pa.key_name_dob == pb.key_name_dob
    assert pa.key_phone == pb.key_phone
    assert pa.bloom and pb.bloom


def test_duplicate_candidate_is_proposed_and_confirmed(world, staff_client, make_user) -> None:  # type: ignore[no-untyped-def]
    people = [("Marieke", "Jansen", "1987-03-14", "Utrecht"),
              ("Marieke", "Janssen", "1987-03-14", "Utrecht"),
              ("Pieter", "Bakker", "1975-11-02", "Almere"),
              ("Fatima", "El Amrani", "2001-05-20", "Tilburg"),
              ("Kees", "de Vries", "1969-01-30", "Assen"),
              ("Sanne", "Visser", "1993-09-09", "Breda")]
    for given, surname, dob, city in people:
        submit(persons=[person(given_name=given, surname=surname, date_of_birth=dob,
                               city=city)])
    client = staff_client(Role.ANALYST, world.desk)
    client.post("/hub/dubbelen/")
    candidates = list(DuplicateCandidate.objects.all())
    names = {(c.person_a.surname, c.person_b.surname) for c in candidates}
    assert ("Jansen", "Janssen") in names
    pair = next(c for c in candidates if c.person_a.surname == "Jansen")
    assert "Janssen" in client.get("/hub/dubbelen/").content.decode()
    client.post(f"/hub/dubbelen/{pair.pk}/", {"decision": "confirm"})
    pair.refresh_from_db()
    assert pair.decision == "confirmed"
    assert Person.objects.get(pk=pair.person_b_id).same_as_id == pair.person_a_id


def test_capture_histories_flag_each_source_per_linked_person(world, make_user,
                                                              staff_client) -> None:  # type: ignore[no-untyped-def]
    same = {"given_name": "Ana", "surname": "Testova", "date_of_birth": "2011-02-03", "sex": "f"}
    submit(forms=["sexual"], persons=[person(**same)], channel=Channel.PUBLIC_FORM)
    submit(forms=["sexual"], persons=[person(**same)], channel=Channel.API, source=world.police)
    submit(forms=["labour"], persons=[person(given_name="Ivo", surname="Proef",
                                             date_of_birth="1980-01-01", sex="m")],
           channel=Channel.API, source=world.police)
    researcher = make_user(Role.RESEARCHER, world.outsider, password=None)
    today = timezone.localdate()
    header, rows = selectors.capture_history_rows(user=researcher, period_start=today,
                                                  period_end=today)
    assert header == ["api:politie-test", "public_form", "age_band", "gender", "form"]
    assert sorted(rows) == [[1, 0, "24+", "male", "labour"], [1, 1, "12-17", "female", "sexual"]]
    response = staff_client(Role.RESEARCHER, world.outsider).get(
        "/hub/vangstgeschiedenissen/", {"period_start": today, "period_end": today})
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == header and len(lines) == 3
    assert AuditEntry.objects.filter(event="hub_capture_histories_exported").exists()
    partner = make_user(Role.PARTNER, world.police, password=None)
    assert selectors.capture_history_rows(user=partner, period_start=today,
                                          period_end=today) == ([], [])


def test_codebook_edit_creates_a_new_version_and_old_signals_keep_theirs(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    old = submit(indicators=["FL11"])
    data = json.loads(json.dumps(services.current_codebook().data))
    seeded = data["version"]
    data["version"] = "2026.9"
    data["weights"]["weak"] = 2
    client = staff_client(Role.ADMIN, world.desk)
    bad = client.post("/hub/codeboek/", {"data": "{not json", "note": "x"})
    assert bad.status_code == 400
    ok = client.post("/hub/codeboek/", {"data": json.dumps(data), "note": "zwak telt 2"})
    assert ok.status_code == 302
    new = submit(indicators=["FL11"])
    old.refresh_from_db()
    assert (old.codebook.version, old.score) == (seeded, 1)
    assert (new.codebook.version, new.score) == ("2026.9", 2)
