"""Training speed against torch's thread count, on an idle CPU and beside a competing busy process.

    python bench/bench_threads.py                                 # torch's default, 1 and 2 threads; idle and loaded
    python bench/bench_threads.py --threads default 1 2 auto --cores 0 1 --load-cores 1 --steps 300

Each measurement trains the default recipe (`train()`, one epoch of `--steps` steps on the built-in faces) in a fresh
process pinned to `--cores`, and reports optimiser steps per second of `fit` (setup excluded). 'default' leaves
torch's own thread setting alone (one thread per physical core; what wganface used before `--threads`), 'auto' is
wganface's `resolve_threads(None)`, a number sets it. The competing load is one process spinning in pure Python,
pinned to `--load-cores`, started before the training process and stopped after it: another program busy on one
core, as on a laptop. Measurements alternate over the thread settings, `--repeats` times, best kept.
"""
import argparse, json, os, subprocess, sys, time

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter('ignore')
threads, steps = sys.argv[1], int(sys.argv[2])
import torch
if threads == 'auto':
    from wganface.core import resolve_threads
    torch.set_num_threads(resolve_threads(None))
elif threads != 'default': torch.set_num_threads(int(threads))
import tempfile
from pathlib import Path
from fastai.callback.core import Callback
from wganface.train import train
class Clock(Callback):
    order = 200
    def before_fit(self): self.t, self.c = time.perf_counter(), time.process_time()
    def after_fit(self): self.seconds, self.cpu = time.perf_counter() - self.t, time.process_time() - self.c
clock = Clock()
with tempfile.TemporaryDirectory() as d:
    train(out=Path(d)/'run', epochs=1, steps_per_epoch=steps, progress=False, device='cpu', cbs=clock)
print(json.dumps(dict(threads_used=torch.get_num_threads(), steps_per_s=steps / clock.seconds, cpu_per_wall=clock.cpu / clock.seconds)))
"""


def measure(threads:str, steps:int, cores:list, load_cores:list|None) -> dict:
    "Steps/s of one training process pinned to `cores`, beside a spinning process on `load_cores` (None: no load)"
    load = None
    if load_cores:
        load = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
        os.sched_setaffinity(load.pid, load_cores)
        time.sleep(0.5)
    try:
        p = subprocess.run([sys.executable, '-c', CHILD, threads, str(steps)], capture_output=True, text=True,
                           preexec_fn=lambda: os.sched_setaffinity(0, cores))
    finally:
        if load is not None: load.kill(); load.wait()
    if p.returncode: raise SystemExit(f"threads={threads} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', nargs='+', default=['default', '1', '2'], help="'default', 'auto' or a number of threads")
    ap.add_argument('--cores', type=int, nargs='+', default=[0, 1], help='cores the training process may use')
    ap.add_argument('--load-cores', type=int, nargs='+', default=[1], help='cores of the competing busy process')
    ap.add_argument('--steps', type=int, default=300, help='optimiser steps per measurement')
    ap.add_argument('--repeats', type=int, default=1)
    ap.add_argument('--no-idle', action='store_true', help='only the measurements under load')
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; training on cores {a.cores}, competing load on {a.load_cores}", flush=True)
    rows = {}
    for _ in range(a.repeats):
        for loaded in ([True] if a.no_idle else [False, True]):
            for t in a.threads:
                r = measure(t, a.steps, a.cores, a.load_cores if loaded else None)
                key = (t, loaded)
                if key not in rows or r['steps_per_s'] > rows[key]['steps_per_s']: rows[key] = r
                print(f"threads {t:>7} ({r['threads_used']} used)  {'loaded' if loaded else 'idle  '}  "
                      f"{r['steps_per_s']:6.1f} steps/s  cpu/wall {r['cpu_per_wall']:.2f}", flush=True)
    print('\n| threads | idle steps/s | loaded steps/s | loaded / idle |\n|---|---|---|---|')
    for t in a.threads:
        idle, busy = rows.get((t, False)), rows.get((t, True))
        print(f"| {t} | {idle['steps_per_s']:.1f} | {busy['steps_per_s']:.1f} | {busy['steps_per_s'] / idle['steps_per_s']:.2f} |"
              if idle and busy else f"| {t} | {idle and round(idle['steps_per_s'], 1)} | {busy and round(busy['steps_per_s'], 1)} | |")


if __name__ == '__main__': main()
