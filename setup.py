"""Build hook: compiles the hot engines with mypyc; everything else is in pyproject.toml.

Two engines run per point or per span, so their speed is a product requirement: the anomaly
detector scores every point of every watched series (200,000 points/s per core,
benchmarks/anomaly/throughput.py), and the performance worker analyses every finished span on a
background thread that shares the interpreter lock with the application (the whole pipeline at or
under 1.3x the bare SDK per span, benchmarks/overhead/). mypyc compiles the same type-checked
source to C extensions (about 5x the detector's points per second, about a third fewer
instructions per span for the worker); the pure-Python modules stay in the package and run
wherever the extensions are not built:

* ``RICECODER_OTEL_PURE_PYTHON=1`` skips compilation (debugging, or platforms without a C compiler);
* a failed compilation is reported and the install goes on with the pure-Python module.

``ricecoder_otel.anomaly.COMPILED`` and ``ricecoder_otel.performance.COMPILED`` say which build runs.
After editing a compiled module in an editable install, rebuild with ``pip install -e .`` (the
compiled module shadows the source). ``kernel/switch.py`` must stay interpreted: the compiled
worker calls it to let the interpreter hand over the GIL.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

COMPILED_MODULES = [
    "src/ricecoder_otel/anomaly/detector.py",
    # the performance worker's pass and what it calls per span
    "src/ricecoder_otel/performance/worker.py",
    "src/ricecoder_otel/performance/engine.py",
    "src/ricecoder_otel/performance/histogram.py",
    "src/ricecoder_otel/performance/bottleneck.py",
    "src/ricecoder_otel/performance/spans.py",
]


def compiled_extensions() -> list[Extension]:
    if os.environ.get("RICECODER_OTEL_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify

        # the rest of the package is only followed for types, and third-party imports (OpenTelemetry)
        # are not installed in the build env: their types are Any to mypyc
        extensions: list[Extension] = mypycify(
            ["--follow-imports=silent", "--ignore-missing-imports", *COMPILED_MODULES],
            opt_level="3",
            group_name="ricecoder_otel_compiled",
        )
    except (Exception, SystemExit) as error:
        print(f"ricecoder-otel: the hot engines are not compiled ({error!r}); using pure Python", file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # no working compiler: the pure-Python module runs
    return extensions


setup(ext_modules=compiled_extensions())
