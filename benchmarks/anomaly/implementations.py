"""The detector's two builds side by side: the installed one (compiled by mypyc where
setup.py could build it) and the pure-Python source it was compiled from."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import ricecoder_otel.anomaly as anomaly
from ricecoder_otel.anomaly import detector as installed

PURE_NAME = "ricecoder_otel.anomaly._detector_source"


def pure_python() -> ModuleType:
    """``detector.py`` loaded as its own module, whatever the installed build is."""
    loaded = sys.modules.get(PURE_NAME)
    if loaded is not None:
        return loaded
    path = Path(anomaly.__file__).with_name("detector.py")
    spec = importlib.util.spec_from_file_location(PURE_NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PURE_NAME] = module
    spec.loader.exec_module(module)
    return module


def builds() -> dict[str, ModuleType]:
    """The installed build under its kind ("compiled" or "pure-python"), and the pure source."""
    kind = "compiled" if anomaly.COMPILED else "pure-python"
    out = {kind: installed}
    out.setdefault("pure-python", pure_python())
    return out
