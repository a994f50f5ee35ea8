"""Build hook: compiles the anomaly detector with mypyc; everything else is in pyproject.toml.

The detector scores every point of every watched series, so it is the one module whose speed is
a product requirement (200,000 points/s per core, benchmarks/anomaly/throughput.py). mypyc
compiles the same type-checked source to a C extension (about 5x the points per second); the
pure-Python module stays in the package and runs wherever the extension is not built:

* ``RICECODER_OTEL_PURE_PYTHON=1`` skips compilation (debugging, or platforms without a C compiler);
* a failed compilation is reported and the install goes on with the pure-Python module.

``ricecoder_otel.anomaly.COMPILED`` says which one runs. After editing ``detector.py`` in an
editable install, rebuild with ``pip install -e .`` (the compiled module shadows the source).
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

COMPILED_MODULES = ["src/ricecoder_otel/anomaly/detector.py"]


def compiled_extensions() -> list[Extension]:
    if os.environ.get("RICECODER_OTEL_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify

        # the detector's imports are stdlib and its own package; the rest of the package is only
        # followed for types, and its third-party imports are not installed in the build env
        extensions: list[Extension] = mypycify(
            ["--follow-imports=silent", "--ignore-missing-imports", *COMPILED_MODULES], opt_level="3"
        )
    except (Exception, SystemExit) as error:
        print(f"ricecoder-otel: the anomaly detector is not compiled ({error!r}); using pure Python", file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # no working compiler: the pure-Python module runs
    return extensions


setup(ext_modules=compiled_extensions())
