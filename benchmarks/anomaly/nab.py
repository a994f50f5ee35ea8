"""Score the default detector on real labelled series (NAB files) with NAB's standard scorer.

Usage: PYTHONPATH=src:. python -m benchmarks.anomaly.nab [--nab DIR] [--option name=value ...]
           [--files N] [--detail] [--out benchmarks/results]

The data set is not part of the repository. It is looked up in ``$RICECODER_NAB_DIR``, else in
``../shared/anomaly-benchmark`` next to the repository root; it holds ``data/``, ``labels/``,
``config/profiles.json`` and the scorer ``nab_score.py`` (which needs numpy and pandas). Every file
is fed in time order to ``create_detector(**options)``; the raw ``update()`` score of every row is
what NAB thresholds (one threshold per cost profile for the whole corpus, as NAB optimises it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from ricecoder_otel.anomaly import create_detector

ENV = "RICECODER_NAB_DIR"
REPO = Path(__file__).resolve().parents[2]


def find_nab(explicit: str | None = None) -> Path:
    """The NAB directory: the argument, ``$RICECODER_NAB_DIR`` or ``../shared/anomaly-benchmark``."""
    for candidate in (explicit, os.environ.get(ENV), str(REPO.parent / "shared" / "anomaly-benchmark")):
        if candidate and (Path(candidate) / "nab_score.py").is_file():
            return Path(candidate)
    raise SystemExit(f"NAB data not found: pass --nab DIR or set {ENV} (looked in ../shared/anomaly-benchmark)")


def load_scorer(nab: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("nab_score", nab / "nab_score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_file(f: Any, options: dict[str, Any]) -> tuple[list[float], float]:
    """Scores of one file's rows and the seconds spent inside ``update``."""
    epochs = (f.ts.astype("int64") / 1e9).tolist()
    values = f.values.tolist()
    det = create_detector(**options)
    update = det.update
    started = time.perf_counter()
    out = [update(t, v) for t, v in zip(epochs, values, strict=True)]
    return out, time.perf_counter() - started


def evaluate(nab: Path, options: dict[str, Any], limit: int | None = None) -> dict[str, Any]:
    scorer = load_scorer(nab)
    import numpy as np  # the scorer's dependency, imported only here

    files = scorer.load_corpus(str(nab))[:limit]
    profiles = scorer.load_profiles(str(nab))
    scores, seconds = [], 0.0
    for f in files:
        s, dt = run_file(f, options)
        scores.append(np.asarray(s, dtype=float))
        seconds += dt
    res = scorer.evaluate(files, scores, profiles)
    points = sum(f.n for f in files)
    threshold = res["standard"]["threshold"]
    per_file = []
    for f, arr in zip(files, scores, strict=True):
        one = scorer.score_at([f], [arr], profiles["standard"], threshold)
        hits = [int(i) for i in np.flatnonzero((arr >= threshold) & (np.arange(f.n) >= f.probation))]
        per_file.append({"file": f.rel, "windows": [list(w) for w in f.windows], "probation": f.probation,
                         "detections": hits[:50], **{k: one[k] for k in ("raw", "tp_windows", "fn_windows",
                                                                         "fp_rows")}})
    return {"files": len(files), "points": points, "points_per_second": round(points / seconds),
            "profiles": {name: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                         for name, r in res.items()},
            "per_file": per_file}


def table(result: dict[str, Any]) -> list[str]:
    lines = ["| profile | score | threshold | windows detected | windows missed | false-positive rows |",
             "|---|---|---|---|---|---|"]
    for name, r in result["profiles"].items():
        lines.append(f"| {name} | {r['normalized']:.1f} | {r['threshold']:.4g} | {r['tp_windows']} | "
                     f"{r['fn_windows']} | {r['fp_rows']} |")
    return lines


def parse_option(text: str) -> tuple[str, Any]:
    name, _, raw = text.partition("=")
    if raw in ("true", "false"):
        return name, raw == "true"
    for conv in (int, float):
        try:
            return name, conv(raw)
        except ValueError:
            continue
    return name, raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nab", default=None, help=f"NAB directory (default ${ENV} or ../shared/anomaly-benchmark)")
    parser.add_argument("--option", action="append", default=[], help="detector option name=value")
    parser.add_argument("--files", type=int, default=None, help="only the first N files (quick look)")
    parser.add_argument("--detail", action="store_true", help="per-file results at the standard threshold")
    parser.add_argument("--out", type=Path, default=None, help="write anomaly-nab.json here")
    args = parser.parse_args(argv)
    options = dict(parse_option(o) for o in args.option)
    result = evaluate(find_nab(args.nab), options, args.files)
    result["command"] = "PYTHONPATH=src:. python -m benchmarks.anomaly.nab " + " ".join(argv or sys.argv[1:])
    result["options"] = options
    print("\n".join(table(result)))
    print(f"{result['points']} points, {result['points_per_second']:,} points/s inside update()")
    if args.detail:
        for pf in result["per_file"]:
            print(f"{pf['raw']:7.2f} tp={pf['tp_windows']} fn={pf['fn_windows']} fp={pf['fp_rows']:3d} "
                  f"{pf['file']} windows={pf['windows']} det={pf['detections'][:12]}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "anomaly-nab.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
