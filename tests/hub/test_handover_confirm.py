"""Deliberate handovers (issue 14.4): a confirmation page before anything is shared, and
indicator suggestions from the free text that count only once a person accepts them."""

from __future__ import annotations

import html as html_mod

import pytest
from django.utils import timezone

from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.hub import services
from zichtbaar.hub.models import CodebookVersion, Signal
from zichtbaar.hub.sharing import LegalBasis

from .conftest import person, submit

pytestmark = pytest.mark.django_db

CONFIRM = "/hub/signalen/{pk}/overdragen/"


def page(response) -> str:  # type: ignore[no-untyped-def]
    return html_mod.unescape(response.content.decode())


@pytest.fixture
def coded(world) -> Signal:  # type: ignore[no-untyped-def]
    return submit(indicators=["FL07"], forms=["labour"], municipality="Venlo",
                  description="Synthetisch: paspoorten ingenomen in de kas.",
                  reporter_contact="melder-geheim@example.invalid",
                  persons=[person(given_name="Ana", surname="Testova")])


def confirm_data(world, signal, partner=None, **extra):  # type: ignore[no-untyped-def]
    partner = partner or world.inspectorate
    agreement = services.agreement_for(signal, partner)
    return {"partner": partner.pk, "agreement": agreement.pk if agreement else 1, **extra}


# --- the confirmation page ------------------------------------------------------------------

def test_confirm_page_shows_partner_basis_shared_and_withheld_fields_and_score(
        world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    response = client.get(CONFIRM.format(pk=coded.pk), {"partner": world.inspectorate.pk})
    assert response.status_code == 200
    html = page(response)
    preview = html.split('data-testid="handover-preview"')[1].split("</section>")[0]
    assert "Inspectie Test" in preview
    assert "Publieke taak (art. 6 lid 1 sub e AVG)" in preview
    assert "Toezicht arbeidsuitbuiting" in preview
    shared = preview.split('data-testid="shared-fields"')[1].split("</dl>")[0]
    withheld = preview.split('data-testid="withheld-fields"')[1].split("</ul>")[0]
    for name in ("Kenmerk", "Ontvangen", "Indicatoren", "Gemeente"):
        assert name in shared and name not in withheld, name
    assert "Venlo" in shared and "FL07" in shared
    for name in ("Beschrijving", "Identiteit van het slachtoffer",
                 "Contactgegevens van de melder"):
        assert name in withheld and name not in shared, name
    for secret in ("Testova", "melder-geheim"):
        assert secret not in html
    assert "3. Score: 3" in html and "Inhouden van identiteitsdocumenten" in html
    local = timezone.localtime(coded.received_at)
    assert f"{local:%H:%M}" in shared and "+00:00" not in html
    assert 'data-testid="confirm-form"' in html and 'name="confirm"' in html
    view = AuditEntry.objects.filter(event="hub_signal_viewed", object_id=str(coded.pk)).last()
    assert view is not None and view.purpose == "voorbereiden van een overdracht"
    assert not coded.handovers.exists()


def test_without_a_chosen_partner_nothing_is_preselected(world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    html = page(client.get(CONFIRM.format(pk=coded.pk)))
    assert "Aan welke partner?" in html and "Inspectie Test" in html
    assert " checked" not in html and 'data-testid="confirm-form"' not in html
    detail = page(client.get(f"/hub/signalen/{coded.pk}/"))
    assert '<option value="">— kies een partner —</option>' in detail


def test_a_post_without_the_confirmation_hands_nothing_over(world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    response = client.post(CONFIRM.format(pk=coded.pk), confirm_data(world, coded))
    assert response.status_code == 400
    assert "Er is niets overgedragen" in page(response)
    assert 'data-testid="confirm-form"' in page(response)
    assert not coded.handovers.exists()
    assert not AuditEntry.objects.filter(event="hub_handover_created").exists()


def test_the_old_direct_post_leads_to_the_confirm_page_and_hands_nothing_over(
        world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    url = f"/hub/signalen/{coded.pk}/handover/"
    response = client.post(url, {"partner": world.inspectorate.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM.format(pk=coded.pk)}?partner={world.inspectorate.pk}"
    followed = page(client.get(response["Location"]))
    assert "Overdragen gaat alleen via deze bevestigingspagina" in followed
    assert "Inspectie Test" in followed
    assert not coded.handovers.exists()
    assert client.post(url, {"partner": "x"})["Location"] == CONFIRM.format(pk=coded.pk)


def test_confirmed_handover_is_created_and_audited_with_the_confirmation(
        world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    response = client.post(CONFIRM.format(pk=coded.pk),
                           confirm_data(world, coded, confirm="on"), follow=True)
    assert "Overgedragen aan Inspectie Test." in page(response)
    handover = coded.handovers.get()
    assert handover.partner == world.inspectorate
    entry = AuditEntry.objects.get(event="hub_handover_created")
    assert entry.detail["confirmation"] == {"confirmed": True, "score": 3, "indicators": 1,
                                            "uncoded_acknowledged": False}
    assert entry.detail["legal_basis"] == "public_task" and entry.actor_id is not None
    again = page(client.get(CONFIRM.format(pk=coded.pk), {"partner": world.inspectorate.pk}))
    assert "al overgedragen aan deze partner" in again or "al overgedragen" in again
    assert 'data-testid="confirm-form"' not in again
    twice = client.post(CONFIRM.format(pk=coded.pk), confirm_data(world, coded, confirm="on"))
    assert twice.status_code == 400 and coded.handovers.count() == 1


def test_no_agreement_means_the_page_says_so_and_cannot_confirm(world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    response = client.get(CONFIRM.format(pk=coded.pk), {"partner": world.veilig_thuis.pk})
    html = page(response)
    assert response.status_code == 200
    assert "Er is geen actieve deelafspraak met Veilig Thuis Test" in html
    assert 'data-testid="confirm-form"' not in html and 'data-testid="shared-fields"' not in html
    forced = client.post(CONFIRM.format(pk=coded.pk),
                         {"partner": world.veilig_thuis.pk, "agreement": 1, "confirm": "on"})
    assert forced.status_code == 400
    assert "geen actieve deelafspraak" in page(forced).lower()
    assert not coded.handovers.exists()


def test_a_changed_agreement_must_be_looked_at_again(world, coded, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    shown = confirm_data(world, coded, confirm="on")
    services.agreement_create(actor=None, organisation=world.desk, partner=world.inspectorate,
                              legal_basis=LegalBasis.PUBLIC_TASK, purpose="Nieuw doel",
                              allowed_fields=["reference", "description"])
    response = client.post(CONFIRM.format(pk=coded.pk), shown)
    assert response.status_code == 400
    assert "intussen gewijzigd" in page(response) and "Nieuw doel" in page(response)
    assert not coded.handovers.exists()


def test_a_score_0_signal_needs_the_extra_acknowledgement(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: vage zorg over de buren.")
    assert signal.score == 0
    client = staff_client(Role.ANALYST, world.desk)
    html = page(client.get(CONFIRM.format(pk=signal.pk), {"partner": world.inspectorate.pk}))
    assert "Ik draag het toch over: score 0, geen indicatoren gecodeerd" in html
    plain = client.post(CONFIRM.format(pk=signal.pk), confirm_data(world, signal, confirm="on"))
    assert plain.status_code == 400
    assert "dit signaal heeft score 0 en geen gecodeerde indicatoren" in page(plain)
    assert not signal.handovers.exists()
    client.post(CONFIRM.format(pk=signal.pk),
                confirm_data(world, signal, confirm="on", acknowledge_uncoded="on"))
    assert signal.handovers.count() == 1
    entry = AuditEntry.objects.get(event="hub_handover_created")
    assert entry.detail["confirmation"]["uncoded_acknowledged"] is True
    assert entry.detail["confirmation"]["score"] == 0


@pytest.mark.parametrize("partner", ["abc", "-1", "99999999999999999999999", "0"])
def test_bad_partner_values_are_a_clear_400_not_an_error(world, coded, staff_client,
                                                         partner) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ANALYST, world.desk)
    response = client.get(CONFIRM.format(pk=coded.pk), {"partner": partner})
    assert response.status_code == 400
    assert "Kies de partner aan wie u wilt overdragen." in page(response)
    posted = client.post(CONFIRM.format(pk=coded.pk),
                         {"partner": partner, "agreement": "x", "confirm": "on"})
    assert posted.status_code == 400 and not coded.handovers.exists()
    own = client.get(CONFIRM.format(pk=coded.pk), {"partner": world.desk.pk})
    assert own.status_code == 400  # the desk cannot hand over to itself


@pytest.mark.parametrize(("role", "side", "status"), [
    (Role.ANALYST, "other", 404), (Role.SUPERVISOR, "other", 404),
    (Role.ANALYST, "partner", 404), (Role.PARTNER, "partner", 403),
    (Role.COUNSELLOR, "own", 403), (Role.RESEARCHER, "own", 403),
    (Role.SUPERVISOR, "own", 200), (Role.ADMIN, "own", 200),
])
def test_only_the_owning_desk_reaches_the_confirm_page(world, coded, staff_client, make_org,
                                                       role, side, status) -> None:  # type: ignore[no-untyped-def]
    org = {"own": world.desk, "partner": world.police,
           "other": make_org("Ander Meldpunt", OrganisationType.REPORTING_POINT)}[side]
    client = staff_client(role, org)
    url = CONFIRM.format(pk=coded.pk)
    assert client.get(url, {"partner": world.inspectorate.pk}).status_code == status
    posted = client.post(url, confirm_data(world, coded, confirm="on"))
    assert posted.status_code == (302 if status == 200 else status)
    assert coded.handovers.exists() == (status == 200)


# --- suggestions ----------------------------------------------------------------------------

def test_suggestion_is_shown_marked_and_does_not_change_the_score(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: de baas heeft de paspoorten ingenomen.")
    client = staff_client(Role.ANALYST, world.desk)
    html = page(client.get(f"/hub/signalen/{signal.pk}/"))
    block = html.split('data-testid="suggestions"')[1].split("</section>")[0]
    assert "Suggestie" in block and "FL07 · Inhouden van identiteitsdocumenten" in block
    assert "<mark>paspoorten</mark> <mark>ingenomen</mark>" in block
    assert "zou +3 opleveren" in block
    assert "Why this score" not in html and "Waarom deze score: 0" in html
    signal.refresh_from_db()
    assert (signal.score, signal.indicators) == (0, [])


def test_accepting_a_suggestion_codes_it_rescoring_and_auditing(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: de baas heeft de paspoorten ingenomen.")
    client = staff_client(Role.ANALYST, world.desk)
    response = client.post(f"/hub/signalen/{signal.pk}/suggestion-accept/", {"code": "FL07"},
                           follow=True)
    assert "Suggestie geaccepteerd: FL07 is nu gecodeerd." in page(response)
    signal.refresh_from_db()
    assert signal.indicators == ["FL07"] and signal.score == 3
    assert signal.explanation["contributions"][0]["code"] == "FL07"
    entry = AuditEntry.objects.get(event="hub_signal_coded")
    assert entry.detail["source"] == "suggestion" and entry.detail["code"] == "FL07"
    assert entry.detail["score_before"] == 0 and entry.detail["score"] == 3
    assert "paspoort ingenom*" in entry.detail["terms"] and entry.actor_id is not None
    html = page(client.get(f"/hub/signalen/{signal.pk}/"))
    assert 'data-code="FL07"' not in html  # coded now, no longer a suggestion


def test_dismissing_a_suggestion_hides_it_and_is_audited(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: de baas heeft de paspoorten ingenomen.")
    client = staff_client(Role.ANALYST, world.desk)
    client.post(f"/hub/signalen/{signal.pk}/suggestion-dismiss/", {"code": "FL07"})
    signal.refresh_from_db()
    assert signal.dismissed_suggestions == ["FL07"] and signal.indicators == []
    assert AuditEntry.objects.get(event="hub_suggestion_dismissed").detail["code"] == "FL07"
    assert 'data-code="FL07"' not in page(client.get(f"/hub/signalen/{signal.pk}/"))


def test_only_a_current_suggestion_can_be_accepted(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: de baas heeft de paspoorten ingenomen.")
    client = staff_client(Role.ANALYST, world.desk)
    for code in ("FL09", "XX99", "minor", "<script>"):
        response = client.post(f"/hub/signalen/{signal.pk}/suggestion-accept/", {"code": code},
                               follow=True)
        assert response.status_code == 200, code
    signal.refresh_from_db()
    assert signal.indicators == [] and signal.score == 0
    assert not AuditEntry.objects.filter(event="hub_signal_coded").exists()


def test_a_minor_suggestion_sets_minor_and_makes_the_signal_urgent(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: meisje (16) wordt naar een andere stad gebracht.")
    client = staff_client(Role.ANALYST, world.desk)
    html = page(client.get(f"/hub/signalen/{signal.pk}/"))
    assert 'data-code="minor"' in html and 'data-code="UR02"' in html
    client.post(f"/hub/signalen/{signal.pk}/suggestion-accept/", {"code": "minor"})
    signal.refresh_from_db()
    assert signal.minor is True and signal.urgent and signal.score == 0
    assert signal.explanation["urgency_reasons"] == ["minor"]


def test_suggestion_actions_are_refused_outside_the_owning_desk(world, staff_client, make_org) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch: de baas heeft de paspoorten ingenomen.")
    other = staff_client(Role.ANALYST, make_org("Ander Meldpunt", OrganisationType.REPORTING_POINT))
    partner = staff_client(Role.PARTNER, world.police)
    for action in ("suggestion-accept", "suggestion-dismiss"):
        url = f"/hub/signalen/{signal.pk}/{action}/"
        assert other.post(url, {"code": "FL07"}).status_code == 404
        assert partner.post(url, {"code": "FL07"}).status_code == 403
    signal.refresh_from_db()
    assert signal.indicators == [] and signal.dismissed_suggestions == []


def test_a_signal_coded_with_the_old_codebook_borrows_the_keyword_lists(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.hub import codebook

    signal = submit(description="Synthetisch: paspoorten ingenomen.")
    old = CodebookVersion.objects.create(version="2026.1", data=codebook.load_file("2026.1"))
    Signal.objects.filter(pk=signal.pk).update(codebook=old)
    client = staff_client(Role.ANALYST, world.desk)
    assert 'data-code="FL07"' in page(client.get(f"/hub/signalen/{signal.pk}/"))
    client.post(f"/hub/signalen/{signal.pk}/suggestion-accept/", {"code": "FL07"})
    signal.refresh_from_db()
    assert signal.indicators == ["FL07"] and signal.codebook.version == "2026.1"


def test_dates_on_the_signal_page_are_local_and_dutch(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(description="Synthetisch", coded_fields={"evidence": [
        {"ad": 1, "url": "https://example.invalid/ad/1",
         "snapshots": [{"fetched_at": "2026-12-03T07:38:36+00:00", "sha256": "ab" * 32}]}]})
    html = page(staff_client(Role.ANALYST, world.desk).get(f"/hub/signalen/{signal.pk}/"))
    assert "3 december 2026 08:38" in html  # 07:38 UTC is 08:38 in Amsterdam in winter
    assert "2026-12-03T07:38:36" not in html and "+00:00" not in html
