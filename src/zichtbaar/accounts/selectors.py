from __future__ import annotations

from django.db.models import QuerySet

from .models import User


def members_of_organisation(actor: User) -> QuerySet[User]:
    return (User.objects.filter(organisation_id=actor.organisation_id)
            .prefetch_related("role_grants").order_by("username"))
