"""Demo organisations and one user per role, each with an enrolled authenticator.

Everything here is synthetic. The fixed password and printed keys are for the local demo only;
``DEMO_TOOLS_ENABLED`` is off in production, and nothing in production calls this module.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .models import Organisation, User
from .roles import OrganisationType, Role

DEMO_PASSWORD = "zichtbaar-demo-2026"  # noqa: S105  # printed demo credential, by design

ORGANISATIONS: list[tuple[str, OrganisationType]] = [
    ("Hulplijn Demo", OrganisationType.CARE_NGO),
    ("Meldpunt Demo", OrganisationType.REPORTING_POINT),
    ("Politie AVIM Demo", OrganisationType.POLICE),
    ("Arbeidsinspectie Demo", OrganisationType.LABOUR_INSPECTORATE),
    ("Gemeente Zorgcoördinatie Demo", OrganisationType.MUNICIPALITY),
    ("Veilig Thuis Demo", OrganisationType.VEILIG_THUIS),
    ("Onderzoek Demo", OrganisationType.RESEARCH),
    ("Platformbeheer Demo", OrganisationType.PLATFORM_OPERATOR),
    ("Ministerie van Justitie en Veiligheid (demo)", OrganisationType.MINISTRY),
]

# (username, role, organisation, first name, last name, synthetic work phone)
USERS: list[tuple[str, Role, str, str, str, str]] = [
    ("counsellor", Role.COUNSELLOR, "Hulplijn Demo", "Sanne", "Demo", "+31 6 00000001"),
    ("supervisor", Role.SUPERVISOR, "Hulplijn Demo", "Ravi", "Demo", "+31 6 00000002"),
    ("admin", Role.ADMIN, "Hulplijn Demo", "Ayla", "Demo", "+31 6 00000003"),
    ("auditor", Role.AUDITOR, "Hulplijn Demo", "Joost", "Demo", "+31 6 00000004"),
    ("analyst", Role.ANALYST, "Meldpunt Demo", "Mila", "Demo", "+31 6 00000005"),
    ("police", Role.PARTNER, "Politie AVIM Demo", "Kees", "Demo", "+31 6 00000006"),
    ("inspector", Role.PARTNER, "Arbeidsinspectie Demo", "Noor", "Demo", "+31 6 00000007"),
    ("coordinator", Role.COORDINATOR, "Gemeente Zorgcoördinatie Demo", "Eva", "Demo", ""),
    ("veiligthuis", Role.PARTNER, "Veilig Thuis Demo", "Daan", "Demo", ""),
    ("researcher", Role.RESEARCHER, "Onderzoek Demo", "Lotte", "Demo", ""),
    ("operator", Role.ADMIN, "Platformbeheer Demo", "Bram", "Demo", ""),
    ("operator-auditor", Role.AUDITOR, "Platformbeheer Demo", "Fenna", "Demo", ""),
    ("ministry", Role.COORDINATOR, "Ministerie van Justitie en Veiligheid (demo)", "Iris",
     "Demo", ""),
]


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    organisations = {}
    for name, kind in ORGANISATIONS:
        organisation = Organisation.objects.filter(name=name).first()
        organisations[name] = organisation or services.organisation_create(name=name, type=kind)
    credentials = []
    for username, role, org_name, first, last, phone in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.user_create(
                username=username, password=DEMO_PASSWORD, organisation=organisations[org_name],
                roles={role}, first_name=first, last_name=last,
                email=f"{username}@demo.invalid", work_phone=phone,
            )
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = services.totp_device_create_confirmed(user=user)
        credentials.append({
            "username": username, "password": DEMO_PASSWORD, "role": str(role),
            "organisation": org_name,
            "totp_key": base64.b32encode(bytes(device.bin_key)).decode(),
        })
    progress(f"{len(organisations)} organisations, {len(credentials)} users")
    return credentials
