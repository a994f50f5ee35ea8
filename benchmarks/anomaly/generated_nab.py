"""Score the generated suites the way NAB scores the real files: raw ``update()`` scores per row.

Usage: PYTHONPATH=src:. python -m benchmarks.anomaly.generated_nab [--nab DIR] [--split all|train|heldout|realistic]

``benchmarks.anomaly.evaluate`` counts episode onsets; this feeds the same generated series to
``create_detector()`` and gives every row's raw score to NAB's scorer (``nab_score.py`` from the NAB
directory, see ``benchmarks.anomaly.nab``), one threshold per cost profile per split. It is the
guard for changes that move scores without moving onsets (how strong an opening is).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from benchmarks.anomaly.evaluate import SPLITS
from benchmarks.anomaly.generators import Series, dataset
from benchmarks.anomaly.nab import find_nab, load_scorer
from benchmarks.anomaly.realistic import realistic
from ricecoder_otel.anomaly import create_detector


def corpus_file(scorer: Any, series: Series) -> Any:
    """A NAB corpus file for one generated series (windows are row ranges, located by their timestamps)."""
    import numpy as np  # the scorer's dependencies, imported only here
    import pandas as pd

    stamps = pd.to_datetime(np.asarray(series.timestamps), unit="s").values
    last = len(stamps) - 1
    windows = [(pd.Timestamp(stamps[a]), pd.Timestamp(stamps[min(b, last)])) for a, b in series.windows]
    return scorer.CorpusFile(f"{series.family}/{series.name}", stamps, np.zeros(len(stamps)), windows)


def score_split(scorer: Any, profiles: dict[str, Any], split: str) -> dict[str, float]:
    import numpy as np

    series_list = realistic() if split == "realistic" else dataset(split)
    files, scores = [], []
    for s in series_list:
        det = create_detector()
        scores.append(np.asarray([det.update(t, v) for t, v in zip(s.timestamps, s.values, strict=True)]))
        files.append(corpus_file(scorer, s))
    result = scorer.evaluate(files, scores, profiles)
    return {name: round(r["normalized"], 1) for name, r in result.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nab", default=None, help="NAB directory (for its scorer)")
    parser.add_argument("--split", choices=("all", *SPLITS), default="all")
    args = parser.parse_args(argv)
    nab = find_nab(args.nab)
    scorer = load_scorer(nab)
    profiles = scorer.load_profiles(str(nab))
    print("| split | standard | reward low FP | reward low FN |\n|---|---|---|---|")
    for split in SPLITS if args.split == "all" else (args.split,):
        r = score_split(scorer, profiles, split)
        print(f"| {split} | {r['standard']} | {r['reward_low_FP_rate']} | {r['reward_low_FN_rate']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
