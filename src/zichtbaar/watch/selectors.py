"""Reads for display. Callers have passed ``access``: Watch data is one shared queue for the
watching organisations (one national crawl under one DPIA), so nothing here filters by
organisation; labels and handovers record who acted."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet

from .models import Ad, Cluster, ClusterLabel, CrawlRun, Source


def clusters_in_queue(*, state: str = "open", min_size: int = 2) -> QuerySet[Cluster]:
    """New and grown clusters first, each group by score; labelled ones only on request."""
    clusters = (Cluster.objects.filter(size__gte=min_size)
                .annotate(first=Min("ads__first_seen"), last=Max("ads__last_seen"),
                          cities=Count("ads__city", distinct=True)))
    if state == "new":
        clusters = clusters.filter(reviewed_size=0)
    elif state == "grown":
        clusters = clusters.filter(reviewed_size__gt=0, size__gt=F("reviewed_size"))
    elif state == "open":
        clusters = clusters.filter(Q(label="") | Q(size__gt=F("reviewed_size")))
    elif state == "labelled":
        clusters = clusters.exclude(label="")
    return clusters.order_by("-score", "-last", "id")


def cluster_ads(cluster: Cluster) -> QuerySet[Ad]:
    return (cluster.ads.select_related("source").prefetch_related("snapshots")
            .order_by("posted", "first_seen", "id"))


@dataclass(frozen=True)
class TimelineRow:
    key: str
    date: dt.date
    city: str
    ads: int


def ad_date(ad: Ad) -> dt.date:
    return ad.posted or ad.first_seen.date()


def timeline(ads: list[Ad]) -> dict[str, list[TimelineRow]]:
    """Movement per phone number and for the whole cluster: cities × dates."""
    per_key: dict[str, Counter[tuple[dt.date, str]]] = defaultdict(Counter)
    for ad in ads:
        place = ad.city or "?"
        per_key[""][(ad_date(ad), place)] += 1
        for phone in ad.extraction().get("phones", []):
            per_key[phone][(ad_date(ad), place)] += 1
    return {key: [TimelineRow(key, d, c, n) for (d, c), n in sorted(counts.items())]
            for key, counts in sorted(per_key.items())}


def labels_for(cluster: Cluster) -> QuerySet[ClusterLabel]:
    return cluster.labels.select_related("actor", "organisation")


def sources_with_runs() -> list[tuple[Source, list[CrawlRun]]]:
    return [(source, list(source.runs.all()[:5])) for source in Source.objects.all()]


def labelled_clusters() -> QuerySet[Cluster]:
    """Labelled clusters with their ads' hits only: no ad text is decrypted for the report."""
    return Cluster.objects.exclude(label="").prefetch_related(
        Prefetch("ads", queryset=Ad.objects.only("id", "cluster_id", "hits")))
