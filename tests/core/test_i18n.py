from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_sign_in_page_is_dutch_by_default() -> None:
    html = Client().get("/accounts/login/").content.decode()
    assert '<html lang="nl">' in html
    assert "Gebruikersnaam" in html
    assert "Inloggen" in html


def test_same_page_renders_in_english_after_switch() -> None:
    client = Client()
    page = client.get("/accounts/login/")
    token = page.cookies["zb_csrf"].value
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/",
                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "User name" in html and "Sign in" in html
    assert "Gebruikersnaam" not in html


def test_dutch_first_even_when_the_browser_prefers_english() -> None:
    html = Client(headers={"accept-language": "en"}).get("/accounts/login/").content.decode()
    assert "Gebruikersnaam" in html


def test_every_dutch_catalogue_entry_is_translated() -> None:
    import polib

    from zichtbaar.core.i18n_build import catalogues

    dutch = [path for path in catalogues() if path.parent.parent.name == "nl"]
    assert dutch, "no Dutch catalogue found"
    for path in dutch:
        catalogue = polib.pofile(str(path))
        untranslated = [e.msgid for e in catalogue.untranslated_entries()]
        fuzzy = [e.msgid for e in catalogue.fuzzy_entries() if not e.obsolete]
        assert untranslated == [], f"{path}: untranslated {untranslated}"
        assert fuzzy == [], f"{path}: fuzzy {fuzzy}"
