"""Re-encrypt every encrypted field under the newest key in ZICHTBAAR_FIELD_KEY."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from zichtbaar.core import crypto
from zichtbaar.core.fields import encrypted_fields


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the newest field key (key rotation)."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        quote = connection.ops.quote_name
        for model in apps.get_models():
            names = encrypted_fields(model)
            if not names:
                continue
            # Work on the stored tokens, never on decrypted values held in Python objects.
            table = quote(model._meta.db_table)
            pk_col = quote(model._meta.pk.column)
            cols = [quote(model._meta.get_field(n).column) for n in names]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk_col}, {', '.join(cols)} FROM {table}")  # noqa: S608
                rows = cursor.fetchall()
                assignments = ", ".join(f"{c} = %s" for c in cols)
                for pk, *tokens in rows:
                    fresh = [crypto.reencrypt(t) if t else t for t in tokens]
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk_col} = %s",  # noqa: S608
                        [*fresh, pk],
                    )
            total += len(rows)
            self.stdout.write(f"{model._meta.label}: {len(rows)}")
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} rows."))
