"""The disclosure library never imports Django: checked in a fresh interpreter that cannot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_disclosure_library_never_imports_django(tmp_path: Path) -> None:
    micro = tmp_path / "m.csv"
    micro.write_text("r,c\n" + "a,x\n" * 3 + "a,y\n" * 9 + "b,x\n" * 8 + "b,y\n" * 7,
                     encoding="utf-8")
    code = ("import sys, importlib, pkgutil\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'django' or name.startswith('django.'):\n"
            "            raise ImportError('django blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import zichtbaar.disclosure as d\n"
            "for mod in pkgutil.iter_modules(d.__path__, 'zichtbaar.disclosure.'):\n"
            "    importlib.import_module(mod.name)\n"
            "t = d.protect_table([[3, 10, 12], [20, 30, 40], [15, 25, 35]])\n"
            "assert t.safe and t.cells[0][0] == '<5', t\n"
            "from zichtbaar.disclosure.cli import main\n"
            f"assert main(['protect', {str(micro)!r}, '--rows', 'r', '--cols', 'c']) == 0\n"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "ok"
