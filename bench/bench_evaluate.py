"""Benchmark wganface.evaluate: a full evaluation of 500 generated 64x64 faces against the built-in faces.

    python bench/bench_evaluate.py                      # random-weight 64-feature generator and critic, 2 threads
    python bench/bench_evaluate.py --run runs/demo      # a trained run (its newest checkpoint)
    python bench/bench_evaluate.py --n 100 --threads 1
    python bench/bench_evaluate.py --inception inception-pool3.pt   # KID/FID too

Without --run the generator is `face_generator(64, nz=200, n_features=64)` and the critic `face_critic(64,
n_features=64)` with random weights: timing does not depend on training. The report goes to a temporary folder.
Load average is printed before and after, since other jobs on the machine slow every figure down.
"""
import argparse, os, tempfile, time

import torch

from common import peak_rss_mb
from wganface.evaluate import evaluate
from wganface.models import face_critic, face_generator
from wganface.runs import as_run


def bench_run():
    "A random-weight 64x64 generator and its critic, as a `Run`: timing does not depend on training"
    torch.manual_seed(0)
    r = as_run(face_generator(64, nz=200, n_features=64).eval(), nz=200, size=64)
    r.critic = face_critic(64, n_features=64).eval()
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--run', help='run folder or checkpoint to evaluate (default: random weights)')
    parser.add_argument('--n', type=int, default=500, help='faces to generate')
    parser.add_argument('--threads', type=int, default=2, help='torch threads')
    parser.add_argument('--inception', help='TorchScript or state-dict Inception file for KID/FID')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        run = args.run if args.run else bench_run()
        start = time.perf_counter()
        rep = evaluate(run, n=args.n, inception=args.inception, out=folder, device='cpu')
        seconds = time.perf_counter() - start
    print(f"evaluate: {args.n} faces of 64x64, {'run ' + args.run if args.run else 'random 64-feature generator and critic'}, "
          f"torch threads {args.threads}, KID/FID {'on' if 'kid' in rep['inception'] else 'off'}")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    print(f"{'stage':<16}{'seconds':>9}")
    for name, s in rep['meta']['seconds_by_test'].items(): print(f'{name:<16}{s:>9.1f}')
    print(f"{'total (wall)':<16}{seconds:>9.1f}\npeak RSS {peak_rss_mb():.0f} MB")


if __name__ == '__main__': main()
