"""The ads library never imports Django: checked in a fresh interpreter that cannot."""

from __future__ import annotations

import subprocess
import sys


def test_ads_library_never_imports_django() -> None:
    code = ("import sys, importlib, pkgutil\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'django' or name.startswith('django.'):\n"
            "            raise ImportError('django blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import zichtbaar.ads\n"
            "for mod in pkgutil.iter_modules(zichtbaar.ads.__path__, 'zichtbaar.ads.'):\n"
            "    importlib.import_module(mod.name)\n"
            "from zichtbaar.ads.extract import extract\n"
            "from zichtbaar.ads.images import image_hash\n"
            "e = extract('Anna 19jr in Den Haag, bel nul zes 12 34 vijf 6 78')\n"
            "assert e.phones == ('+31612345678',) and e.places == (\"'s-Gravenhage\",), e\n"
            "assert image_hash(b'no image') is None\n"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
