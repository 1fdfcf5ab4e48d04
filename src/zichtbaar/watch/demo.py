"""Demo: a bundled synthetic ad site, crawled politely on loopback, linked into clusters.

Nothing here is a real ad, name or number (``zichtbaar.ads.synth``). The crawl runs in its own
process (``zichtbaar watch crawl``), as in production; this process only serves the site.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from . import services
from .models import Ad

# The demo crawl writes from another process: no transaction may be held around load().
ATOMIC = False
SOURCES_DIR = Path(__file__).resolve().parent / "data" / "sources"
DEMO_NETWORKS = 8
DEMO_INDEPENDENTS = 40
DEMO_SEED = 2026


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    if Ad.objects.exists():
        progress("watch: ads present, skipped")
        return []
    from zichtbaar.ads.synth import generate

    from .testsite import build_site, serve, stop

    root = Path(settings.DATA_DIR) / "watch-demo-site"
    corpus = generate(networks=DEMO_NETWORKS, independents=DEMO_INDEPENDENTS, seed=DEMO_SEED)
    server, thread, port = serve(root)
    build_site(root, corpus, port=port)
    try:
        for source_file in sorted(SOURCES_DIR.glob("*.yaml")):
            text = source_file.read_text(encoding="utf-8").replace("127.0.0.1:8081",
                                                                   f"127.0.0.1:{port}")
            # Our own loopback site: no delay needed to be polite to it.
            text = re.sub(r"delay_s:\s*[0-9.]+", "delay_s: 0", text)
            path = root / source_file.name
            path.write_text(text, encoding="utf-8")
            progress(f"watch: crawling {source_file.stem} on loopback")
            subprocess.run([sys.executable, "-m", "zichtbaar.cli", "watch", "crawl",
                            str(path)], check=True, env=dict(os.environ),
                           stdout=subprocess.DEVNULL)
    finally:
        stop(server, thread)
    report = services.link_pending()
    progress(f"watch: {Ad.objects.count()} ads, {report.clusters_total} clusters")
    return []
