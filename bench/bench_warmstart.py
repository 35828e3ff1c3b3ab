"""The autoencoder warm start (`train(..., warm_start=STEPS)`) against the default recipe, at equal CPU time.

    python bench/bench_warmstart.py                              # 3 CPU-minutes, seeds 0 1 2, warm starts of 500 steps
    python bench/bench_warmstart.py --minutes 5 --warm-start 300 1000 --seeds 0
    python bench/bench_warmstart.py --smoke                      # 0.3 CPU-minutes, one seed: checks that it all runs

The budget is the training process's own CPU time (`time.process_time`, one torch thread by default), not the wall
clock: other programs sharing the CPU then slow a run down without shortening its training. The warm start's steps
are inside the budget: its clock starts with the GAN's `fit`, before the warm start runs. Each run is its own
process; runs alternate (seed 0: default, warm; seed 1: default, warm; ...). Along the way the generator used for
sampling (the moving average) is copied at fixed fractions of the budget and scored afterwards, off the clock: SWD
(x1000) of 500 fakes against the training faces, next to the floor (new renders of the built-in person against the
training faces); at the end, copying (the data-copying z in HOG space, against new renders) and diversity (MS-SSIM
of fakes against that of the training faces).

Writes bench/out/warmstart-<time>/: results.json and table.md.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)


def cpu_budget_callbacks(seconds):
    "A CPU-time budget (stops training like `gan.TimeBudget`) and snapshots of the sampling generator at fixed fractions of it"
    from fastai.callback.core import Callback, CancelFitException, CancelTrainException

    class CPUBudget(Callback):
        order = 100  # like TimeBudget: its clock starts before the warm start (order 101) runs
        def before_fit(self): self.t0, self.expired, self.k, self.snaps, self.steps = time.process_time(), False, 0, [], 0
        def after_batch(self):
            if not self.training: return
            self.steps += 1
            t = time.process_time() - self.t0
            if self.k < len(FRACTIONS) - 1 and t >= FRACTIONS[self.k] * seconds: self.take(t)
            if t >= seconds: self.expired = True; raise CancelTrainException()
        def after_epoch(self):
            if self.expired: raise CancelFitException()
        def after_fit(self): self.take(time.process_time() - self.t0)
        def take(self, t):
            ema = getattr(self.learn, 'generator_ema', None)
            g = ema.ema if ema is not None else self.model.generator
            self.snaps.append(dict(cpu_s=t, steps=self.steps, state={k: v.detach().to('cpu', copy=True) for k, v in g.state_dict().items()}))
            self.k += 1
    return CPUBudget()


def child(a):
    import torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.train import train
    budget = cpu_budget_callbacks(a.minutes * 60)
    with tempfile.TemporaryDirectory() as d:
        learn = train(None, Path(d)/'run', epochs=1_000_000, seed=a.seed, warm_start=a.child_warm, progress=False, cbs=budget, device='cpu')
        opts = json.loads((Path(learn.path)/'options.json').read_text())
    ws = getattr(learn, 'autoencoder_warm_start', None)
    torch.save(dict(snaps=budget.snaps, options=opts, warm_s=ws.seconds if ws is not None else 0.), a.out_file)


def score(res, reals, holdout, n, seed):
    import torch
    from wganface.metrics import diversity, memorisation
    from wganface.models import build_generator, sample_faces
    from wganface.swd import swd
    g = build_generator(res['options'])
    curve = []
    for s in res['snaps']:
        g.load_state_dict(s['state'])
        fakes = sample_faces(g, n=n, seed=1000 + seed)
        curve.append(dict(cpu_s=round(s['cpu_s'], 1), gan_steps=s['steps'], swd=round(swd(fakes, reals, seed=seed)['mean'], 1)))
    mem, div = memorisation(fakes, reals, holdout), diversity(fakes, reals, seed=seed)
    return curve, dict(copy_z_hog=mem['hog']['z'], msssim_fake=div['msssim_fake'], msssim_real=div['msssim_real'])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--minutes', type=float, default=3., help='CPU-minutes of training per run (default: 3)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--warm-start', type=int, nargs='+', default=[500], help='warm-start steps to compare with 0 (default: 500)')
    p.add_argument('--threads', type=int, default=1, help='torch threads per run (default: 1)')
    p.add_argument('--n', type=int, default=500, help='fakes scored per snapshot (default: 500)')
    p.add_argument('--smoke', action='store_true', help='0.3 CPU-minutes, seed 0, 100 fakes: checks that it all runs')
    p.add_argument('--out', default=None, help='results folder (default: bench/out/warmstart-<time>)')
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--child-warm', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--out-file', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return child(a)
    if a.smoke: a.minutes, a.seeds, a.n = 0.3, [0], 100
    import torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.metrics import builtin_holdout, load_real_faces
    from wganface.swd import swd
    out = Path(a.out) if a.out else HERE/'out'/time.strftime('warmstart-%Y%m%d-%H%M%S')
    out.mkdir(parents=True, exist_ok=True)
    reals, holdout = load_real_faces(size=64), builtin_holdout(size=64)
    floor = round(swd(builtin_holdout(a.n, 64, seed=2), reals, seed=0)['mean'], 1)
    rows = []
    for seed in a.seeds:
        for warm in [0] + a.warm_start:
            f = out/f'run-warm{warm}-seed{seed}.pt'
            cmd = [sys.executable, __file__, '--child', '--child-warm', str(warm), '--seed', str(seed), '--minutes', str(a.minutes),
                   '--threads', str(a.threads), '--out-file', str(f)]
            if subprocess.call(cmd) != 0: raise SystemExit(f"warm start {warm} (seed {seed}) failed")
            res = torch.load(f, weights_only=False)
            curve, final = score(res, reals, holdout, a.n, seed)
            rows.append(dict(warm_start=warm, seed=seed, warm_s=round(res['warm_s'], 1), curve=curve, **final))
            f.unlink()
            print(json.dumps(rows[-1]), flush=True)
    (out/'results.json').write_text(json.dumps(dict(minutes=a.minutes, threads=a.threads, floor=floor, rows=rows), indent=1))
    lines = [f"{a.minutes:g} CPU-minutes per run, {a.threads} torch thread(s), built-in faces; SWD x1000 of {a.n} fakes against the "
             f"training faces (floor, new renders against them: {floor})", '',
             '| warm start | seed | warm-start CPU s | GAN steps | SWD at ' + ' / '.join(f'{x:.0%}' for x in FRACTIONS) + ' of the budget | copy z (HOG) | MS-SSIM fake / real |',
             '|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(f"| {r['warm_start']} | {r['seed']} | {r['warm_s']} | {r['curve'][-1]['gan_steps']} | "
                     + ' / '.join(str(c['swd']) for c in r['curve']) + f" | {r['copy_z_hog']:.1f} | {r['msssim_fake']:.3f} / {r['msssim_real']:.3f} |")
    lines += ['', '| warm start | mean final SWD | min-max |', '|---|---|---|']
    for warm in [0] + a.warm_start:
        v = [r['curve'][-1]['swd'] for r in rows if r['warm_start'] == warm]
        lines.append(f"| {warm} | {sum(v) / len(v):.1f} | {min(v)}-{max(v)} |")
    (out/'table.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    print(f"Wrote {out}")


if __name__ == '__main__':
    main()
