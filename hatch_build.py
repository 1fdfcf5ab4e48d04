"""Build hook: compile gettext catalogues so wheels and editable installs carry .mo files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogues(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        module_path = Path(self.root) / "src" / "zichtbaar" / "core" / "i18n_build.py"
        spec = importlib.util.spec_from_file_location("_zb_i18n_build", module_path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.compile_catalogues(Path(self.root) / "src" / "zichtbaar", force=True)
