"""DDoS detector on synthetic portal traffic: detection delay per flood shape, false alarms.

For each seed: ``--days`` normal days (weekly shape, lunch and Monday peaks, newsletter
surges, crawler bursts, a staff NAT gateway) and one test day, run once clean (every alert
is a false alarm) and once per flood shape (single source, botnet, slow ramp, short pulse)
injected at a random time of the test day. Prints a Markdown table.

    .venv/bin/python bench/detect_ddos.py --seeds 10 --days 14
"""

from __future__ import annotations

import argparse
import statistics
import time

from tocsin.detect.detectors.ddos_synthetic import SHAPES, SeedOutcome, evaluate_seed

_EXPECTED_GUESS = {"single": "single-source", "botnet": "distributed", "ramp": "ramp"}


def _spread(values: list[int]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):g} / {max(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    started = time.monotonic()
    outcomes: list[SeedOutcome] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        outcome = evaluate_seed(seed, normal_days=args.days)
        outcomes.append(outcome)
        delays = [f.delay_onset for f in outcome.floods]
        print(f"seed {seed}: false alarms {len(outcome.false_alarms)}, delays {delays}")
        for alert in outcome.false_alarms:
            print(f"  false alarm: {alert.to_dict()}")
    print()
    print(
        "| shape | detected | delay from onset, min (median / max) | delay from first "
        "packet (median / max) | peak req/min (median) | shape guessed | other alerts |"
    )
    print("|---|---|---|---|---|---|---|")
    for shape in SHAPES:
        floods = [f for o in outcomes for f in o.floods if f.shape == shape]
        found = [f for f in floods if f.detected is not None]
        onset = [f.delay_onset for f in found if f.delay_onset is not None]
        first = [f.delay_start for f in found if f.delay_start is not None]
        peak = statistics.median([f.peak_rate for f in found]) if found else 0
        wanted = _EXPECTED_GUESS.get(shape, "pulse")
        guessed = sum(1 for f in found if f.guessed == wanted)
        print(
            f"| {shape} | {len(found)}/{len(floods)} | {_spread(onset)} | {_spread(first)} "
            f"| {peak:,.0f} | {guessed}/{len(floods)} | {sum(f.other_alerts for f in floods)} |"
        )
    days = sum(o.normal_days + 1 for o in outcomes)
    alarms = sum(len(o.false_alarms) for o in outcomes)
    print()
    print(
        f"False alarms on normal days: {alarms} in {days} days ({alarms / days:.3f} per day); "
        f"{len(outcomes)} seeds in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
