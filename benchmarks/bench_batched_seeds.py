"""Batched seeds on a GPU: K seeds of one network in one batched loop against one seed at a time.

For widths 40 and 1,000 (one hidden layer, paradigm "all", the homework's data), trains K
seeds with ``sweep(backend="torch", device="cuda", batch_seeds=True)`` and with
``batch_seeds=False`` (the same K trainings one after another on the same GPU), prints
both times and the speed-up, and checks that the runs agree. Without a CUDA GPU it says so
and stops, unless ``--device cpu`` asks for the same comparison on the CPU.

Run: python benchmarks/bench_batched_seeds.py [--seeds K] [--steps N] [--device cuda|cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import linfeat_widgets as lf


def timed(data, device: str, **kwargs):
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = lf.sweep(data, device=device, progress=False, **kwargs)
    if device == "cuda":
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="seeds trained together (default 8)")
    parser.add_argument("--steps", type=int, default=2000, help="SGD steps per training (default 2,000)")
    parser.add_argument("--widths", type=int, nargs="+", default=[40, 1000])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "No CUDA GPU here (torch.cuda.is_available() is False): the GPU speed-up of batched seeds cannot be "
            "measured on this machine. Run it where a GPU exists, or pass --device cpu for the CPU comparison."
        )
        return
    where = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"{args.seeds} seeds x {args.steps:,} steps, backend torch, float32, on {where}")
    data = lf.make_dataset()
    for width in args.widths:
        kwargs = dict(widths=width, seeds=range(args.seeds), n_steps=args.steps, backend="torch")
        timed(data, args.device, widths=width, seeds=(0, 1), n_steps=20, backend="torch")  # warm-up
        batched, t_batched = timed(data, args.device, batch_seeds=True, **kwargs)
        single, t_single = timed(data, args.device, batch_seeds=False, **kwargs)
        gap = max(
            float(np.abs(batched[c].params - single[c].params).max() / np.abs(single[c].params).max()) for c in single
        )
        print(
            f"  width {width:>5}: one seed at a time {t_single:8.2f} s   batched {t_batched:8.2f} s   "
            f"speed-up {t_single / t_batched:6.1f}x   (largest parameter gap {gap:.1e} of the largest parameter)"
        )


if __name__ == "__main__":
    main()
