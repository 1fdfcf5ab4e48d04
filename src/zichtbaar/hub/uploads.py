"""Attachment checks: type by content (magic bytes), never by name or browser header."""

from __future__ import annotations

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .services import AttachmentInput

ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png",
                 "image/webp": "webp"}
MAX_BYTES = 4 * 1024 * 1024
MAX_FILES = 3


def check_bytes(name: str, data: bytes) -> AttachmentInput:
    if len(data) > MAX_BYTES:
        raise ValidationError(_("%(name)s is larger than 4 MB."), params={"name": name[:80]},
                              code="too_large")
    if not data:
        raise ValidationError(_("%(name)s is empty."), params={"name": name[:80]},
                              code="empty")
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("%(name)s is not a PDF, JPEG, PNG or WebP file (judged by its content, not its "
              "name)."), params={"name": name[:80]}, code="bad_type")
    return AttachmentInput(name=name[:200], content_type=kind.mime,
                           extension=ALLOWED_TYPES[kind.mime], data=data)


def check_upload(upload: UploadedFile) -> AttachmentInput:
    name = upload.name or "file"
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(_("%(name)s is larger than 4 MB."), params={"name": name[:80]},
                              code="too_large")
    return check_bytes(name, upload.read(MAX_BYTES + 1))
