"""Compile the committed gettext catalogues (.po) into .mo files.

Pure Python (polib), so neither the build nor a fresh machine needs GNU gettext; the build
hook, ``zichtbaar demo`` and the test script all call this. Catalogues live in the project-wide
``zichtbaar/locale`` and in each app's own ``locale`` folder, so an app owns its strings.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = PACKAGE_DIR / "locale"


def catalogues(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Every committed .po catalogue of the package (project-wide and per app)."""
    return sorted(package_dir.glob("**/locale/*/LC_MESSAGES/*.po"))


def compile_catalogues(package_dir: Path = PACKAGE_DIR, *, force: bool = False) -> list[Path]:
    import polib

    written = []
    for po_path in catalogues(package_dir):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written
