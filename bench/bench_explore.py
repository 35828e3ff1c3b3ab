"""Benchmark wganface.explore: a 200-dim x 16-value sweep (3,200 frames) at 256x256 with labels, to GIF and to MP4.

    python bench/bench_explore.py                 # the full sweep, torch using half the cores
    python bench/bench_explore.py --dims 0-19     # 320 frames, for a quick look
    python bench/bench_explore.py --threads 1

The generator is `face_generator(64, nz=200, n_features=64)` with random weights (timing does not depend on training).
Each stage runs in a fresh process, so its peak RSS (VmHWM) is its own; ffmpeg encodes in a process of its own, not
counted. 'generate' only runs the generator over the sweep's latents; 'gif' and 'mp4' are the whole `sweep` call,
contact sheet included.
"""
import argparse, os, time
from pathlib import Path

import torch

from common import peak_rss_mb, print_stages, run_stages
from wganface.explore import sweep
from wganface.latents import parse_dims, sweep_latents
from wganface.models import face_batches, face_generator
from wganface.render import read_animation_info
from wganface.runs import as_run


def bench_run():
    "The benchmark's generator as a `Run` (random weights: timing does not depend on training)"
    torch.manual_seed(0)
    return as_run(face_generator(64, nz=200, n_features=64).eval(), nz=200, size=64)


def run_stage(stage, dims, n_values, threads, folder):
    "Run one stage in this process and return its timings and peak memory."
    torch.set_num_threads(threads)
    r = bench_run()
    path = Path(folder) / stage / f'bench.{stage}'
    start = time.perf_counter()
    if stage == 'generate':
        z = sweep_latents(torch.zeros(200), parse_dims(dims, 200), torch.linspace(-3, 3, n_values))
        n_frames = sum(len(b) for b in face_batches(r.generator, z))
    else:
        written = sweep(r, dims=dims, n_values=n_values, out=path, scale=4, labels=True)
        n_frames = read_animation_info(written[0])['n_frames']
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in path.parent.glob('*')) / 2**20 if stage != 'generate' else 0.
    return dict(stage=stage, n_frames=n_frames, seconds=seconds, rss_mb=peak_rss_mb(), file_mb=size)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--dims', default='all', help="dims to sweep (default: all 200)")
    parser.add_argument('--n-values', type=int, default=16, help='values per dim')
    # Half the cores: ffmpeg encodes MP4 in its own process while the generator runs
    parser.add_argument('--threads', type=int, default=max(1, os.cpu_count() // 2), help='torch threads (default: half the cores)')
    args = parser.parse_args()
    rows = run_stages(run_stage, ('generate', 'gif', 'mp4'), args.dims, args.n_values, args.threads)
    load = os.getloadavg()
    print(f"sweep of dims {args.dims} x {args.n_values} values, 64x64 -> 256x256 with labels; torch threads {args.threads}, "
          f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print_stages(rows, dict(generate='generate only (no render)', gif='sweep -> GIF + sheet', mp4='sweep -> MP4 + sheet'))


if __name__ == '__main__': main()
