"""Sources, crawl runs, ads with their evidence snapshots, clusters, labels and decoys.

Ad texts, titles, extractions and snapshots are encrypted at rest: public ads still name and
number people. Phone numbers are linked through keyed hashes (``phone_keys``), never in clear
outside the encrypted extraction.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.accounts.models import Organisation
from zichtbaar.core.fields import EncryptedTextField
from zichtbaar.core.models import BaseModel, VersionedData


class LexiconVersion(VersionedData):
    """A version of the indicator lexicon (data, admin-editable; versions are kept)."""


class Source(BaseModel):
    """A crawled site: its YAML (kept verbatim) and the parsed configuration."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    yaml_text = models.TextField(_("configuration (YAML)"))
    config = models.JSONField(default=dict)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    retention_days = models.PositiveIntegerField(_("retention (days)"), default=90)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CrawlRun(BaseModel):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    ads_new = models.PositiveIntegerField(default=0)
    ads_changed = models.PositiveIntegerField(default=0)
    ads_unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class Cluster(BaseModel):
    """A linked group of ads: the unit an analyst judges."""

    class Label(models.TextChoices):
        TRAFFICKING = "trafficking", _("Trafficking suspected")
        INDEPENDENT = "independent", _("Independent")
        SPAM = "spam", _("Spam")
        SCAM = "scam", _("Scam")
        UNSURE = "unsure", _("Unsure")

    key = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField(default=0)
    # Size when an analyst last opened it: a cluster that grew since comes back as "grown".
    reviewed_size = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0.0, db_index=True)
    explanation = models.JSONField(default=list)
    # The template holds shared ad text and slot values (names, ages, places): encrypted.
    template_json = EncryptedTextField(blank=True, default="")
    linkage = models.JSONField(default=dict)
    grown_at = models.DateTimeField(null=True, blank=True)
    label = models.CharField(_("label"), max_length=16, choices=Label.choices, blank=True)
    labelled_at = models.DateTimeField(null=True, blank=True)
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    signal = models.ForeignKey("hub.Signal", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="watch_clusters")

    class Meta:
        ordering = ["-score", "id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"C-{self.pk:06d}" if self.pk else "C-new"

    @property
    def template(self) -> dict[str, Any]:
        return json.loads(self.template_json) if self.template_json else {}

    @property
    def state(self) -> str:
        if self.reviewed_size == 0:
            return "new"
        return "grown" if self.size > self.reviewed_size else "seen"


class ClusterLabel(BaseModel):
    """Every label given, kept: the indicator report reads them."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="labels")
    label = models.CharField(max_length=16, choices=Cluster.Label.choices)
    note = EncryptedTextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]


class Ad(BaseModel):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="ads")
    url = models.URLField(max_length=2000)
    url_hash = models.CharField(max_length=64)
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField(db_index=True)
    posted = models.DateField(null=True, blank=True)
    title = EncryptedTextField(blank=True, default="")
    text = EncryptedTextField(blank=True, default="")
    extraction_json = EncryptedTextField(blank=True, default="")
    hits = models.JSONField(default=list)  # indicator, start, end, grade, weight (no text)
    lexicon = models.ForeignKey(LexiconVersion, null=True, on_delete=models.PROTECT,
                                related_name="+")
    city = models.CharField(max_length=100, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    phone_keys = models.JSONField(default=list)  # keyed hashes of the E.164 numbers
    image_hashes = models.JSONField(default=list)
    score = models.FloatField(default=0.0)
    versions = models.PositiveIntegerField(default=1)
    sha256 = models.CharField(max_length=64, blank=True)  # of the current version's page
    linked = models.BooleanField(default=False, db_index=True)
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="ads")

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "url_hash"],
                                               name="watch_unique_ad_url")]

    @property
    def reference(self) -> str:
        return f"A-{self.pk:07d}" if self.pk else "A-new"

    def extraction(self) -> dict[str, Any]:
        return json.loads(self.extraction_json) if self.extraction_json else {}


class Snapshot(models.Model):
    """A fetched ad page, content-addressed and append-only; deleted only by retention."""

    ad = models.ForeignKey(Ad, on_delete=models.CASCADE, related_name="snapshots")
    sha256 = models.CharField(max_length=64)
    url = models.URLField(max_length=2000)
    status = models.PositiveSmallIntegerField()
    fetched_at = models.DateTimeField()
    content = EncryptedTextField()  # base64 of the exact bytes fetched

    class Meta:
        ordering = ["fetched_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ad", "sha256"],
                                               name="watch_unique_snapshot")]

    def __str__(self) -> str:
        return self.sha256

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Snapshots are append-only.")
        super().save(*args, **kwargs)


class LinkerState(BaseModel):
    """The incremental linker's state, so new ads join clusters without relinking all."""

    name = models.CharField(max_length=32, unique=True, default="default")
    # Base64 of the linker's state (signatures, places, keyed identifiers), encrypted.
    state = EncryptedTextField()
    ads_linked = models.PositiveIntegerField(default=0)


class Decoy(BaseModel):
    """A decoy profile (lokprofiel): deterrence, not entrapment."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="watch_decoys")
    name = models.CharField(_("name"), max_length=100)
    profile = models.TextField(_("profile text"), blank=True)
    persona_age = models.PositiveSmallIntegerField(_("stated age of the persona"), null=True,
                                                   blank=True)
    secret = EncryptedTextField()  # HMAC key of the gateway's webhook signature
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DecoyContact(BaseModel):
    """One inbound message: no body, no sender; a keyed hash counts returning senders."""

    decoy = models.ForeignKey(Decoy, on_delete=models.CASCADE, related_name="contacts")
    sender_key = models.CharField(max_length=64, db_index=True)
    # Keyed hash of the gateway's message id: a retried delivery is answered, not counted.
    message_key = models.CharField(max_length=64, db_index=True, blank=True)
    returning = models.BooleanField(default=False)
    minor_age = models.BooleanField(default=False)
    category = models.CharField(max_length=32)
    reply_template = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["decoy", "message_key"], condition=~models.Q(message_key=""),
            name="watch_unique_decoy_message")]
