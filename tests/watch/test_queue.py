"""The analyst queue end to end: linking, views, labels, handover to the hub, export, access,
retention. Ads come from the synthetic corpus through the crawler's own store service."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.hub.models import Channel, Signal
from zichtbaar.watch import services
from zichtbaar.watch.events import WatchAuditEvent
from zichtbaar.watch.models import Ad, Cluster, ClusterLabel, Snapshot

from .conftest import store_synth

pytestmark = pytest.mark.django_db


def test_linking_builds_clusters_with_explanations(linked_corpus):
    clusters = list(Cluster.objects.all())
    assert clusters, "the synthetic networks must form clusters"
    for cluster in clusters:
        assert cluster.size == cluster.ads.count() >= 2
        assert cluster.explanation, "every cluster explains its score"
        total = sum(row["contribution"] for row in cluster.explanation)
        assert cluster.score == pytest.approx(total, abs=0.01)
    # Networks in the truth are grouped: the biggest cluster holds ads of a single network.
    assert Ad.objects.filter(cluster__isnull=False).count() >= 8


def test_incremental_link_joins_new_ads_without_relinking(db):
    store_synth(networks=3, independents=6, seed=11)
    first = services.link_pending()
    assert first.ads > 0 and first.clusters_total > 0
    again = services.link_pending()
    assert again.ads == 0, "nothing is linked twice"
    before = {c.key: c.size for c in Cluster.objects.all()}
    # A re-crawl where one ad changed is linked again, alone.
    ad = Ad.objects.filter(cluster__isnull=False).first()
    run = services.crawl_run_start(source=ad.source)
    page = services.AdPage(url=ad.url, status=200, body=b"<html>changed</html>",
                           fetched_at=timezone.now(), title=ad.title,
                           text=ad.text + " Bel nu!", posted=ad.posted,
                           image_hashes=ad.image_hashes)
    stored = services.ad_page_store(run=run, page=page)
    assert stored.changed and not stored.created
    assert Snapshot.objects.filter(ad=ad).count() == 2, "the earlier version's hash is kept"
    report = services.link_pending()
    assert report.ads == 1
    assert {c.key: c.size for c in Cluster.objects.all()} == before


def test_queue_and_cluster_page_are_audited(linked_corpus, analyst_client):
    client = analyst_client
    response = client.get("/watch/")
    assert response.status_code == 200
    cluster = Cluster.objects.order_by("-score").first()
    assert cluster.reference in response.content.decode()
    page = client.get(f"/watch/clusters/{cluster.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "<mark" in body, "extractions are highlighted"
    assert "sha256" in body, "evidence hashes are shown"
    events = set(AuditEntry.objects.values_list("event", flat=True))
    assert WatchAuditEvent.QUEUE_VIEWED in events
    assert WatchAuditEvent.CLUSTER_VIEWED in events
    cluster.refresh_from_db()
    assert cluster.state == "seen", "opening a cluster marks it reviewed"
    images = client.get(f"/watch/clusters/{cluster.pk}/images/")
    assert images.status_code == 200
    assert AuditEntry.objects.filter(event=WatchAuditEvent.IMAGES_VIEWED).exists()
    svg = client.get(f"/watch/clusters/{cluster.pk}/timeline.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content


def test_label_and_handover_create_a_hub_signal_with_evidence(linked_corpus, analyst_client,
                                                              watch_org):
    cluster = Cluster.objects.order_by("-score").first()
    response = analyst_client.post(f"/watch/clusters/{cluster.pk}/label/",
                                   {"label": "trafficking", "note": "zelfde nummer"})
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.label == "trafficking"
    assert ClusterLabel.objects.filter(cluster=cluster).count() == 1
    # Without confirmation nothing is handed over.
    refused = analyst_client.post(f"/watch/clusters/{cluster.pk}/handover/",
                                  {"indicators": ["NS01"]})
    assert refused.status_code == 302
    assert not Signal.objects.filter(channel=Channel.ONLINE).exists()
    analyst_client.post(f"/watch/clusters/{cluster.pk}/handover/",
                        {"indicators": ["NS01"], "confirm": "on"})
    cluster.refresh_from_db()
    signal = cluster.signal
    assert signal is not None and signal.channel == Channel.ONLINE
    assert signal.organisation == watch_org
    assert signal.indicators == ["NS01"]
    evidence = signal.coded_fields["evidence"]
    assert len(evidence) == cluster.size
    hashes = {s["sha256"] for item in evidence for s in item["snapshots"]}
    assert hashes == set(Snapshot.objects.filter(ad__cluster=cluster)
                         .values_list("sha256", flat=True))
    assert "<html" not in str(signal.coded_fields), "no copy of the pages"
    assert AuditEntry.objects.filter(event=WatchAuditEvent.CLUSTER_HANDED_OVER).exists()
    # A second handover is refused with a message, not a second signal.
    analyst_client.post(f"/watch/clusters/{cluster.pk}/handover/",
                        {"indicators": ["NS01"], "confirm": "on"})
    assert Signal.objects.filter(channel=Channel.ONLINE).count() == 1


def test_export_csv_has_the_documented_columns(linked_corpus, analyst_client):
    response = analyst_client.get("/watch/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == Ad.objects.count()
    assert rows[0].keys() >= {"url", "phones", "emails", "city", "age", "cluster", "score",
                              "indicators"}
    for row in rows:
        for phone in filter(None, row["phones"].split(";")):
            assert re.fullmatch(r"\+\d{8,15}", phone), phone
    clustered = [r for r in rows if r["cluster"]]
    assert clustered and any(not r["cluster"] for r in rows)


@pytest.mark.parametrize(("kind", "role", "status"), [
    (OrganisationType.REPORTING_POINT, Role.ANALYST, 200),
    (OrganisationType.POLICE, Role.ANALYST, 200),
    (OrganisationType.CARE_NGO, Role.ANALYST, 404),
    (OrganisationType.MUNICIPALITY, Role.COORDINATOR, 403),
    (OrganisationType.REPORTING_POINT, Role.COUNSELLOR, 403),
    (OrganisationType.RESEARCH, Role.RESEARCHER, 403),
])
def test_only_reporting_points_and_police_see_the_queue(linked_corpus, make_org, staff_client,
                                                        kind, role, status):
    client = staff_client(role, make_org(f"Org {kind}", kind))
    cluster = Cluster.objects.first()
    for url in ("/watch/", f"/watch/clusters/{cluster.pk}/", "/watch/export.csv",
                f"/watch/clusters/{cluster.pk}/images/"):
        assert client.get(url).status_code == status, url
    posted = client.post(f"/watch/clusters/{cluster.pk}/label/", {"label": "spam"})
    assert posted.status_code in ({302} if status == 200 else {403, 404})
    if status != 200:
        assert not ClusterLabel.objects.exists()


def test_anonymous_visitor_is_sent_to_sign_in(linked_corpus, client):
    response = client.get("/watch/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_bad_label_is_refused_with_a_message(linked_corpus, analyst_client):
    cluster = Cluster.objects.first()
    response = analyst_client.post(f"/watch/clusters/{cluster.pk}/label/",
                                   {"label": "<script>"}, follow=True)
    assert response.status_code == 200
    assert not ClusterLabel.objects.exists()


def test_retention_deletes_old_ads_and_keeps_hashes_in_the_audit_trail(db):
    old = timezone.now() - dt.timedelta(days=200)
    ads = store_synth(networks=2, independents=3, seed=5, fetched_at=old)
    services.link_pending()
    hashes = set(Snapshot.objects.values_list("sha256", flat=True))
    report = services.retention_run()
    assert report.ads == len(ads)
    assert not Ad.objects.exists() and not Snapshot.objects.exists()
    kept = {e.detail["sha256"] for e in
            AuditEntry.objects.filter(event=WatchAuditEvent.SNAPSHOT_DELETED)}
    assert kept == hashes
    assert not Cluster.objects.exists()


def test_admin_edits_the_lexicon_as_a_new_version(db, staff_client, watch_org):
    import yaml

    from zichtbaar.watch.models import LexiconVersion

    admin = staff_client(Role.ADMIN, watch_org)
    page = admin.get("/watch/lexicon/")
    assert page.status_code == 200
    current = services.current_lexicon()
    data = dict(current.data)
    bad = admin.post("/watch/lexicon/", {"data": "version: [unclosed", "note": ""})
    assert bad.status_code == 400 and "YAML" in bad.content.decode()
    same = admin.post("/watch/lexicon/", {"data": yaml.safe_dump(data), "note": "again"})
    assert same.status_code == 400, "a version number is never reused"
    # A grade-C indicator (movement words) may not carry weight: refused with a message.
    cheat = {**data, "version": "test-2",
             "indicators": [{**e, "weight": 2.0} if e["grade"] == "C" else e
                            for e in data["indicators"]]}
    refused = admin.post("/watch/lexicon/", {"data": yaml.safe_dump(cheat), "note": ""})
    assert refused.status_code == 400
    assert LexiconVersion.objects.count() == 1
    good = {**data, "version": "test-3"}
    saved = admin.post("/watch/lexicon/", {"data": yaml.safe_dump(good), "note": "tuning"})
    assert saved.status_code == 302
    assert services.current_lexicon().version == "test-3"
    assert AuditEntry.objects.filter(event=WatchAuditEvent.LEXICON_CREATED).exists()
    analyst = staff_client(Role.ANALYST, watch_org)
    assert analyst.get("/watch/lexicon/").status_code == 403


def test_an_ad_that_takes_another_numbers_phone_joins_that_network(db):
    """A re-crawled ad with a new phone number is linked again: its old and new numbers are
    both evidence, so it joins the network whose number it now shows."""
    store_synth(networks=3, independents=6, seed=11)
    services.link_pending()
    from zichtbaar.watch.models import LinkerState

    pruned = {p["value"] for p in services._load_linker(LinkerState.objects.get()).pruned()}
    lonely = Ad.objects.filter(cluster__isnull=True).exclude(phone_keys=[]).first()
    other = next(ad for ad in Ad.objects.filter(cluster__isnull=False).order_by("id")
                 if set(ad.phone_keys) - pruned)
    phone = next(p for p in other.extraction()["phones"]
                 if services.identifier_key("phone", p) not in pruned)
    run = services.crawl_run_start(source=lonely.source)
    text = f"{lonely.text} Nieuw nummer: {phone}"
    stored = services.ad_page_store(run=run, page=services.AdPage(
        url=lonely.url, status=200, body=text.encode(), fetched_at=timezone.now(),
        title=lonely.title, text=text, posted=lonely.posted))
    assert stored.changed
    report = services.link_pending()
    assert report.ads == 1
    lonely.refresh_from_db()
    assert lonely.cluster is not None
    assert lonely.cluster.ads.filter(pk=other.pk).exists()


def test_a_page_back_to_an_earlier_version_is_coded_again(db):
    ad = store_synth(networks=1, independents=1, seed=3)[0]
    original = (ad.text, ad.sha256)
    run = services.crawl_run_start(source=ad.source)

    import base64

    first_body = base64.b64decode(Snapshot.objects.get(ad=ad).content)
    changed = services.ad_page_store(run=run, page=services.AdPage(
        url=ad.url, status=200, body=b"<html>anders</html>", fetched_at=timezone.now(),
        text="Helemaal anders, bel 06 12 34 56 78"))
    assert changed.changed
    back = services.ad_page_store(run=run, page=services.AdPage(
        url=ad.url, status=200, body=first_body, fetched_at=timezone.now(), text=original[0]))
    assert back.changed, "returning to the first version is a change too"
    ad.refresh_from_db()
    assert (ad.text, ad.sha256) == original
    assert Snapshot.objects.filter(ad=ad).count() == 2, "each distinct page kept once"


def test_timeline_plot_refuses_unknown_positions(linked_corpus, analyst_client):
    cluster = Cluster.objects.first()
    for bad in ("99", "-1", "$\\foo{$", ""):
        response = analyst_client.get(f"/watch/clusters/{cluster.pk}/timeline.svg",
                                      {"n": bad})
        assert response.status_code == 404, bad


def test_cluster_template_and_linker_state_are_encrypted_at_rest(linked_corpus):
    from django.db import connection

    from zichtbaar.watch.models import LinkerState

    cluster = Cluster.objects.exclude(template_json="").first()
    assert cluster.template["text"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT template_json FROM watch_cluster WHERE id = %s", [cluster.pk])
        raw = cursor.fetchone()[0]
        cursor.execute("SELECT state FROM watch_linkerstate")
        state = cursor.fetchone()[0]
    assert cluster.template["text"][:20] not in raw
    plain = LinkerState.objects.get().state  # decrypts
    assert plain and plain[:40] not in state
    # Inside the (encrypted) state, names are keyed hashes only: no advertiser name in clear.
    # (Searching the ciphertext for a four-letter name would match base64 by chance.)
    import base64
    import re

    from zichtbaar.ads.linking import Linker

    names = {n for ad in Ad.objects.all() for n in ad.extraction().get("names", [])}
    stored = {key for group in Linker.from_state(base64.b64decode(plain))._names for key in group}
    assert names and stored
    assert not stored & (names | {n.lower() for n in names})
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in stored)
