"""Benchmark wganface.render: synthetic 64x64 latent-walk frames, upscaled to 256x256, labelled, written as GIF and MP4.

    python bench/bench_render.py              # 3,200 frames, batches of 64
    python bench/bench_render.py --frames 320

Each stage runs in a fresh process, so its peak RSS is its own; ffmpeg encodes in a process of its own, not counted.
The frames stand in for generator output: a cheap smooth walk, so the time measured is rendering and writing only.
"""
import argparse, multiprocessing, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from wganface.render import label_frame, read_animation_info, save_gif, save_mp4, to_uint8, upscale


def walk_batches(n_frames, bs=64, key_every=32, seed=0):
    "Batches of smooth 64x64 images in [-1,1] that drift from one random key image to the next, like a latent walk."
    g = torch.Generator().manual_seed(seed)
    keys = torch.randn(n_frames // key_every + 2, 3, 8, 8, generator=g) * 1.5
    for start in range(0, n_frames, bs):
        t = torch.arange(start, min(start + bs, n_frames)) / key_every
        i, frac = t.long(), (t % 1).view(-1, 1, 1, 1)
        low = keys[i] * (1 - frac) + keys[i + 1] * frac
        yield torch.tanh(F.interpolate(low, size=64, mode='bicubic', align_corners=False))


def rendered_frames(n_frames):
    "What an explorer writes: each batch converted once, upscaled 4x, then every frame labelled."
    i = 0
    for batch in walk_batches(n_frames):
        for frame in upscale(to_uint8(batch), 4):
            yield label_frame(frame, f'dim {i // 100}  z={(i % 100) / 100 * 6 - 3:+.2f}')
            i += 1


def peak_rss_mb():
    "Peak resident memory of this process (Linux)."
    # Not ru_maxrss: Linux carries the parent's peak into it across the fork+exec that starts a spawned worker
    status = Path('/proc/self/status').read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith('VmHWM')) / 1024


def run_stage(stage, n_frames, folder):
    "Run one stage in this process and return its timings and peak memory."
    path = Path(folder) / f'bench.{stage}'
    start = time.perf_counter()
    if stage == 'frames': n_written = sum(1 for _ in rendered_frames(n_frames))
    elif stage == 'gif': save_gif(rendered_frames(n_frames), path, fps=12)
    elif stage == 'mp4': save_mp4(rendered_frames(n_frames), path, fps=24)
    seconds = time.perf_counter() - start
    if stage != 'frames': n_written = read_animation_info(path)['n_frames']
    return dict(stage=stage, n_frames=n_written, seconds=seconds, rss_mb=peak_rss_mb(),
                file_mb=path.stat().st_size / 2**20 if path.exists() else 0.)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--frames', type=int, default=3200, help='frames per stage')
    args = parser.parse_args()
    spawn = multiprocessing.get_context('spawn')
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for stage in ('frames', 'gif', 'mp4'):
            with spawn.Pool(1) as pool: rows.append(pool.apply(run_stage, (stage, args.frames, folder)))
    print(f'torch threads {torch.get_num_threads()}; {args.frames} frames of 64x64 -> 256x256 with labels')
    print(f"{'stage':<24}{'frames':>7}{'seconds':>9}{'frames/s':>10}{'peak RSS MB':>13}{'file MB':>9}")
    names = dict(frames='make frames (no write)', gif='make + save_gif', mp4='make + save_mp4')
    for r in rows:
        print(f"{names[r['stage']]:<24}{r['n_frames']:>7}{r['seconds']:>9.1f}{r['n_frames'] / r['seconds']:>10.0f}"
              f"{r['rss_mb']:>13.0f}{r['file_mb']:>9.1f}")


if __name__ == '__main__': main()
