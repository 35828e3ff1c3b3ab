"""Benchmark wganface.explore: a 200-dim x 16-value sweep (3,200 frames) at 256x256 with labels, to GIF and to MP4.

    python bench/bench_explore.py                 # the full sweep, torch using half the cores
    python bench/bench_explore.py --dims 0-19     # 320 frames, for a quick look
    python bench/bench_explore.py --threads 1

The generator is `face_generator(64, nz=200, n_features=64)` with random weights (timing does not depend on training).
Each stage runs in a fresh process, so its peak RSS (VmHWM) is its own; ffmpeg encodes in a process of its own, not
counted. 'generate' only runs the generator over the sweep's latents; 'gif' and 'mp4' are the whole `sweep` call,
contact sheet included.
"""
import argparse, multiprocessing, os, tempfile, time
from pathlib import Path

import torch

from wganface.explore import face_batches, parse_dims, sweep, sweep_latents
from wganface.models import face_generator
from wganface.render import read_animation_info


def bench_generator():
    torch.manual_seed(0)
    g = face_generator(64, nz=200, n_features=64).eval()
    g.config = dict(size=64, nz=200, noise='normal', epoch=0, steps=0, checkpoint=None)
    return g


def peak_rss_mb():
    "Peak resident memory of this process (Linux)."
    # Not ru_maxrss: Linux carries the parent's peak into it across the fork+exec that starts a spawned worker
    status = Path('/proc/self/status').read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith('VmHWM')) / 1024


def run_stage(stage, dims, n_values, threads, folder):
    "Run one stage in this process and return its timings and peak memory."
    torch.set_num_threads(threads)
    g = bench_generator()
    path = Path(folder) / stage / f'bench.{stage}'
    start = time.perf_counter()
    if stage == 'generate':
        z = sweep_latents(torch.zeros(200), parse_dims(dims, 200), torch.linspace(-3, 3, n_values))
        n_frames = sum(len(b) for b in face_batches(g, z))
    else:
        written = sweep(g, dims=dims, n_values=n_values, out=path, scale=4, labels=True)
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
    spawn = multiprocessing.get_context('spawn')
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for stage in ('generate', 'gif', 'mp4'):
            with spawn.Pool(1) as pool: rows.append(pool.apply(run_stage, (stage, args.dims, args.n_values, args.threads, folder)))
    load = os.getloadavg()
    print(f"sweep of dims {args.dims} x {args.n_values} values, 64x64 -> 256x256 with labels; torch threads {args.threads}, "
          f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'stage':<30}{'frames':>7}{'seconds':>9}{'frames/s':>10}{'peak RSS MB':>13}{'files MB':>10}")
    names = dict(generate='generate only (no render)', gif='sweep -> GIF + sheet', mp4='sweep -> MP4 + sheet')
    for r in rows:
        print(f"{names[r['stage']]:<30}{r['n_frames']:>7}{r['seconds']:>9.1f}{r['n_frames'] / r['seconds']:>10.0f}"
              f"{r['rss_mb']:>13.0f}{r['file_mb']:>10.1f}")


if __name__ == '__main__': main()
