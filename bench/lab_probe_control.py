"""The probe's random-direction control: vectorised ranks vs a per-direction sklearn loop.

Anthropic's baseline is the best of 1,000 random directions per layer. Scoring each
direction with `roc_auc_score` in a loop is the obvious way; the lab ranks all
directions of a layer in one matrix product. Both run here on the same activations
(lab scale: 30 layers × 300 prompts × d=576), interleaved, and the script prints the
ratio and checks that both give the same AUROCs.

Run: `.venv/bin/python bench/lab_probe_control.py [--directions 100] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from tripwire.lab import orientation_free, random_direction_control


def loop_baseline(acts: np.ndarray, labels: np.ndarray, n: int, seed: int) -> list[float]:
    """Best orientation-free AUROC per layer, one `roc_auc_score` call per direction."""
    directions = np.random.default_rng(seed).standard_normal((acts.shape[2], n))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    best = []
    for layer in acts:
        scores = [roc_auc_score(labels, layer @ directions[:, j]) for j in range(n)]
        best.append(float(orientation_free(np.array(scores)).max()))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--directions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    acts = rng.standard_normal((30, 300, 576)).astype(np.float32)
    labels = np.arange(300) % 2
    ours, baseline = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        fast = random_direction_control(acts, labels, n_directions=args.directions, seed=1)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        slow = loop_baseline(acts, labels, args.directions, seed=1)
        baseline.append(time.perf_counter() - start)
    assert np.allclose(fast.best, slow, atol=1e-6), "vectorised and loop AUROCs differ"
    ours_s, base_s = statistics.median(ours), statistics.median(baseline)
    print(f"{args.directions} directions × 30 layers × 300 prompts (median of {args.rounds}):")
    ratio = base_s / ours_s
    print(f"  sklearn loop {base_s:.3f} s   vectorised {ours_s:.3f} s   ratio {ratio:.1f}×")
    print(f"  same best AUROCs: yes (max |diff| {np.max(np.abs(np.array(fast.best) - slow)):.1e})")


if __name__ == "__main__":
    main()
