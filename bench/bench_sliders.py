"""How live a slider is: one update (move a slider, draw the face, encode the PNG a page shows) of the library's
slider state, for the default model at 256 px display size.

    python bench/bench_sliders.py runs/demo                 # a trained run (`wganface demo`)
    python bench/bench_sliders.py                           # an untrained default-sized generator (same cost)

Prints milliseconds per update for 1 and 2 torch threads, with raw-dim sliders and with SeFa directions, and the load
average at the start (a busy machine slows every figure). The browser round trip (a slider dragged with the mouse in
headless Chromium to the new face shown) is printed by `python -m pytest tests/test_app.py -k chromium -s`.
"""
import argparse, os, time

import torch

from wganface.models import face_generator
from wganface.sliders import FaceSliders, time_update


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('run', nargs='?', default=None, help='run folder or checkpoint; default: an untrained 64x64, nz 200, 16-feature generator')
    p.add_argument('--n', type=int, default=200, help='updates to average over (default: 200)')
    p.add_argument('--display', type=int, default=256, help='display side in pixels (default: 256)')
    a = p.parse_args()
    run = a.run or face_generator(64, nz=200, n_features=16)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    print(f"{'threads':>7}  {'directions':<12}{'ms/update':>10}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for dirs in (None, 'sefa:0-5'):
            s = FaceSliders(run, dirs, display=a.display, device='cpu')
            s.png()
            print(f"{threads:>7}  {dirs or 'raw dims':<12}{time_update(s, a.n):>10.1f}")


if __name__ == '__main__': main()
