"""Benchmark wganface.render: synthetic 64x64 latent-walk frames, upscaled to 256x256, labelled, written as GIF and MP4.

    python bench/bench_render.py              # 3,200 frames, batches of 64
    python bench/bench_render.py --frames 320

Each stage runs in a fresh process, so its peak RSS is its own; ffmpeg encodes in a process of its own, not counted.
The frames stand in for generator output: a cheap smooth walk, so the time measured is rendering and writing only.
`run_stages` and `print_stages` are shared with bench_explore.py.
"""
import argparse, multiprocessing, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from common import peak_rss_mb, print_stages, run_stages
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
    rows = run_stages(run_stage, ('frames', 'gif', 'mp4'), args.frames)
    print(f'torch threads {torch.get_num_threads()}; {args.frames} frames of 64x64 -> 256x256 with labels')
    print_stages(rows, dict(frames='make frames (no write)', gif='make + save_gif', mp4='make + save_mp4'))


if __name__ == '__main__': main()
