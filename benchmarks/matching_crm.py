"""Matching on a realistic CRM data set, per kind of case: the service against Splink and recordlinkage.

The data set (benchmarks/crm_dataset.py) has persons and companies of four countries from five source
systems, ~30 % of customers with one to three duplicates of labelled kinds (moved, married name, typos,
invalid identifiers...) and ~12 % in groups of look-alike *different* customers (twins, households,
junior/senior, namesakes, sister companies). It is generated, not tuned: see its module docstring.

* ``service`` mode (default): the service as its own process on PostgreSQL, used through its API —
  ``POST /duplicates/check`` before every ``POST /customers`` (the real-time check), the profile
  updates as ``PATCH``, then ``POST /duplicates/scan`` and the review queue (benchmarks/crm_service.py).
* ``engine`` mode: the same translation of bodies and the same check and scan replayed in memory
  (benchmarks/crm_engine.py), for sizes the API would take hours to load (200,000 customers).
* Splink and recordlinkage see every profile as it is at the end, standardised, and are set up as
  their documentation recommends (benchmarks/crm_baselines.py).

Pairs are scored against the truth (benchmarks/crm_scoring.py): precision, recall and F1 overall and per
category, the false-merge rate of the look-alike categories (pairs of two different customers of one
group predicted as one) and a calibration table (how many of the pairs in a probability bin are true).
The real-time check is judged at the likely-duplicate threshold (0.9: what ``POST /customers`` refuses)
and the scan at the review threshold (0.5: what the review queue shows), the service's defaults; both
are also shown at the other threshold. Seconds are wall clock; on a shared machine compare them only
within one run (the load average is printed).

    .venv/bin/python benchmarks/matching_crm.py [--entities 20000] [--mode service|engine]
                                                [--systems ours,splink,recordlinkage] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.crm_dataset import Dataset, generate
from benchmarks.crm_scoring import Pair, Scores, Truth, calibration, score, table, truth_of

REVIEW, LIKELY = 0.5, 0.9
CO_LOCATED = ("twins", "household", "junior/senior", "namesakes in one postcode", "sister companies")
SUMMARY = ("overall", "all look-alike groups", "all moved customers")


def _ours(dataset: Dataset, mode: str) -> dict[str, Any]:
    if mode == "engine":
        from benchmarks.crm_engine import run

        engine = run(dataset, review=REVIEW)
        return {
            "check": engine.check,
            "scan": engine.scan,
            "refused": engine.refused,
            "load_seconds": engine.check_seconds,
            "scan_seconds": engine.scan_seconds,
            "latencies": [],
        }
    from benchmarks.cached_server import database_server
    from benchmarks.crm_service import run as run_service

    service = run_service(dataset, database_server("pgdata-crm"), review=REVIEW)
    return {
        "check": service.check,
        "scan": service.scan,
        "refused": service.refused,
        "load_seconds": service.load_seconds,
        "scan_seconds": service.scan_seconds,
        "latencies": service.check_latencies,
        "scan_result": dict(service.scan_result),
    }


def _baselines(dataset: Dataset, systems: set[str]) -> dict[str, tuple[dict[Pair, float], float]]:
    from benchmarks.crm_baselines import final_rows, recordlinkage_pairs, splink
    from benchmarks.crm_engine import refusal

    rows = final_rows(dataset, refusal)
    found: dict[str, tuple[dict[Pair, float], float]] = {}
    if "splink" in systems:
        started = time.perf_counter()
        pairs = splink(rows, REVIEW)
        found["splink"] = (pairs, time.perf_counter() - started)
    if "recordlinkage" in systems:
        started = time.perf_counter()
        pairs = dict.fromkeys(recordlinkage_pairs(rows), 1.0)
        found["recordlinkage"] = (pairs, time.perf_counter() - started)
    return found


def _at(pairs: dict[Pair, float], threshold: float) -> list[Pair]:
    return [p for p, probability in pairs.items() if probability >= threshold]


def _row(name: str, scores: Scores) -> str:
    return f"{name:<36} {scores.precision:>9.4f} {scores.recall:>7.4f} {scores.f1:>7.4f}"


def _co_located(rows: list[Scores]) -> tuple[int, int]:
    picked = [r for r in rows if r.name in CO_LOCATED]
    return sum(r.false_merges for r in picked), sum(r.lookalike_pairs for r in picked)


def report(
    dataset: Dataset, ours: dict[str, Any], others: dict[str, tuple[dict[Pair, float], float]], mode: str
) -> dict[str, Any]:
    truth: Truth = truth_of(dataset.records)
    check, scan = ours["check"], ours["scan"]
    results: dict[str, Any] = {}
    print(
        f"\n{len(dataset.records):,} records of {len({r.entity for r in dataset.records}):,} customers; "
        f"{len(truth.true_pairs):,} true pairs; {len(truth.lookalike_pairs):,} look-alike pairs; "
        f"records with a value the service refused (sent again without it): {ours['refused']:,}"
    )
    label = "service (API, PostgreSQL)" if mode == "service" else "engine mode (in memory, labelled)"
    print(f"\n{'system':<36} {'precision':>9} {'recall':>7} {'F1':>7}")
    lines = [
        (f"real-time check p>={LIKELY} [{label}]", check, LIKELY),
        (f"real-time check p>={REVIEW}", check, REVIEW),
        (f"batch scan p>={REVIEW} [{label}]", scan, REVIEW),
        (f"batch scan p>={LIKELY}", scan, LIKELY),
    ]
    lines += [(f"{name} p>={REVIEW}", pairs, REVIEW) for name, (pairs, _) in others.items() if name == "splink"]
    lines += [(f"{name} p>={LIKELY}", pairs, LIKELY) for name, (pairs, _) in others.items() if name == "splink"]
    lines += [(name, pairs, REVIEW) for name, (pairs, _) in others.items() if name != "splink"]
    for name, pairs, threshold in lines:
        rows = score(truth, _at(pairs, threshold))
        print(_row(name, rows[0]))
        merged, looked = _co_located(rows)
        moved = next(r for r in rows if r.name == "all moved customers")
        results[name] = {
            "precision": rows[0].precision,
            "recall": rows[0].recall,
            "f1": rows[0].f1,
            "coLocatedFalseMerges": [merged, looked],
            "movedRecall": moved.recall,
        }
    for name, pairs, threshold in lines[:1] + lines[2:3] + [line for line in lines[4:] if line[2] == REVIEW]:
        print()
        print(table(name, score(truth, _at(pairs, threshold))))
    for name, pairs in (("real-time check", check), ("batch scan", scan)):
        print(f"\ncalibration of the {name}: pairs per probability bin, and the share of them that are true")
        for label_, count, share in calibration(truth, pairs, (0.5, 0.7, 0.9, 0.99, 0.999)):
            print(f"  {label_:<14} {count:>7,} pairs   {share:6.1%} true")
    print("\nseconds (wall clock, this run):")
    latencies = sorted(ours["latencies"])
    if latencies:
        p50, p95 = (latencies[int(len(latencies) * q)] * 1000 for q in (0.5, 0.95))
        print(
            f"  loading through the API (check + create per record, updates): {ours['load_seconds']:.0f} s; "
            f"check p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        )
    print(
        f"  batch scan: {ours['scan_seconds']:.2f} s"
        + (f"  {ours.get('scan_result')}" if ours.get("scan_result") else "")
    )
    for name, (_, seconds) in others.items():
        ratio = seconds / ours["scan_seconds"] if ours["scan_seconds"] else 0.0
        print(f"  {name}: {seconds:.2f} s  (the scan is {ratio:.1f}x as fast)")
        results[f"{name}Seconds"] = seconds
    results["scanSeconds"] = ours["scan_seconds"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=("service", "engine"), default="service")
    parser.add_argument("--systems", default="ours,splink,recordlinkage")
    parser.add_argument("--json", type=Path, help="also write the headline figures to this file")
    args = parser.parse_args()
    systems = set(args.systems.split(","))
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    dataset = generate(args.entities, args.seed)
    print(f"data set: {args.entities:,} customers, seed {args.seed}; mode: {args.mode}", flush=True)
    others = _baselines(dataset, systems)
    ours = _ours(dataset, args.mode)
    results = report(dataset, ours, others, args.mode)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
