"""Audit events of Watch. A stored value is never reused or renamed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.audit.events import AuditAction


class WatchAuditEvent(models.TextChoices):
    SOURCE_SAVED = "watch_source_saved", _("Ad source saved")
    CRAWL_STARTED = "watch_crawl_started", _("Crawl started")
    CRAWL_FINISHED = "watch_crawl_finished", _("Crawl finished")
    SNAPSHOT_STORED = "watch_snapshot_stored", _("Evidence snapshot stored")
    CLUSTERS_LINKED = "watch_clusters_linked", _("Ads linked into clusters")
    QUEUE_VIEWED = "watch_queue_viewed", _("Analyst queue viewed")
    CLUSTER_VIEWED = "watch_cluster_viewed", _("Cluster viewed")
    IMAGES_VIEWED = "watch_images_viewed", _("Image hashes viewed")
    CLUSTER_LABELLED = "watch_cluster_labelled", _("Cluster labelled")
    CLUSTER_HANDED_OVER = "watch_cluster_handed_over", _("Cluster handed to the hub")
    ADS_EXPORTED = "watch_ads_exported", _("Ads exported")
    LEXICON_CREATED = "watch_lexicon_created", _("Lexicon version created")
    RETENTION_RUN = "watch_retention_run", _("Watch retention run")
    SNAPSHOT_DELETED = "watch_snapshot_deleted", _("Evidence snapshot deleted after retention")
    DECOY_SAVED = "watch_decoy_saved", _("Decoy profile saved")
    DECOY_CONTACT = "watch_decoy_contact", _("Decoy contact answered")
    INDICATOR_REPORT_VIEWED = "watch_indicator_report_viewed", _("Indicator report viewed")


ACTIONS: dict[str, AuditAction] = {
    WatchAuditEvent.SOURCE_SAVED: AuditAction.CHANGE,
    WatchAuditEvent.CRAWL_STARTED: AuditAction.CREATE,
    WatchAuditEvent.CRAWL_FINISHED: AuditAction.CHANGE,
    WatchAuditEvent.SNAPSHOT_STORED: AuditAction.CREATE,
    WatchAuditEvent.CLUSTERS_LINKED: AuditAction.CHANGE,
    WatchAuditEvent.QUEUE_VIEWED: AuditAction.VIEW,
    WatchAuditEvent.CLUSTER_VIEWED: AuditAction.VIEW,
    WatchAuditEvent.IMAGES_VIEWED: AuditAction.VIEW,
    WatchAuditEvent.CLUSTER_LABELLED: AuditAction.CHANGE,
    WatchAuditEvent.CLUSTER_HANDED_OVER: AuditAction.EXPORT,
    WatchAuditEvent.ADS_EXPORTED: AuditAction.EXPORT,
    WatchAuditEvent.LEXICON_CREATED: AuditAction.CREATE,
    WatchAuditEvent.RETENTION_RUN: AuditAction.DELETE,
    WatchAuditEvent.SNAPSHOT_DELETED: AuditAction.DELETE,
    WatchAuditEvent.DECOY_SAVED: AuditAction.CHANGE,
    WatchAuditEvent.DECOY_CONTACT: AuditAction.CREATE,
    WatchAuditEvent.INDICATOR_REPORT_VIEWED: AuditAction.VIEW,
}
