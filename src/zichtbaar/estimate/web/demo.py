"""One finished estimate for the demo research organisation, on a synthetic file.

The file (``data/demo-synthetic.csv``) was simulated: 6,200 people, 4 lists, two age groups,
dependence between the first two lists. No real registration is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from zichtbaar.accounts.models import Organisation, User

from . import engine, services
from .models import EstimateRun

DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo-synthetic.csv"
DEMO_NAME = "demo-synthetisch-4-lijsten.csv"


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    organisation = Organisation.objects.filter(name="Onderzoek Demo").first()
    researcher = User.objects.filter(username="researcher").first()
    if organisation is None or researcher is None:
        progress("estimate: demo research organisation missing, skipped")
        return []
    if EstimateRun.objects.filter(organisation=organisation, input_name=DEMO_NAME).exists():
        return []
    run = services.run_create(
        actor=researcher, input_name=DEMO_NAME, data=DEMO_FILE.read_bytes(),
        parameters=engine.parameters_from({"method": "stepwise", "strata": "leeftijd"}),
        source="demo")
    services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    progress(f"estimate: demo run {run.pk} {run.status}")
    return []
