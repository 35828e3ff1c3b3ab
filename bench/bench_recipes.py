"""Stock fastai WGAN against wganface's default recipe, side by side at the same training-time budget.

    python bench/bench_recipes.py                           # 10 CPU-minutes, seeds 0 1 2, built-in faces, 1 thread
    python bench/make_real_faces.py /tmp/lfw && python bench/bench_recipes.py --data /tmp/lfw/train --holdout /tmp/lfw/holdout --minutes 15
    python bench/bench_recipes.py --smoke                   # 0.5 minutes, one seed: checks that everything runs
    python bench/bench_recipes.py --minutes 4 --seeds 0 --recipe wganface --recipe nf32='{"n_features": 32}'   # try a variant

Recipes:
  stock     fastai's GAN notebook / the original project: basic_generator + basic_critic (64 features, one extra
            layer, LeakyReLU 0.2), 200-d noise, GANLearner.wgan (FixedGANSwitcher 5:1, clip 0.01), RMSProp lr 2e-4,
            wd 0, batch 64, fastai's DataBlock (get_image_files, Resize crop, Normalize) decoding images per batch.
            Two things are changed so that it trains at all on a tiny folder: batches are drawn with replacement
            (42 images < batch 64 would give zero batches) and there are no worker processes (2 cores here).
  wganface  `wganface.train.train()` with its defaults: exactly what `wganface train DATA` does.
  NAME=JSON `train()` defaults overridden by the JSON options (for choosing defaults).

Runs alternate (seed 0: stock, wganface; seed 1: stock, wganface; ...) so machine noise hits every recipe, and each
runs in its own process (peak memory is that process's). Training stops when the budget is spent (`TimeBudget`;
`--clock cpu`, the default, counts the process's CPU time, so that other programs on the machine change the
figures less); along the way the generator used for sampling (the moving average for wganface) is copied at fixed
fractions of the budget, and scored after training, off the clock, on 500 fakes against the training faces:

  SWD        ProGAN's sliced Wasserstein distance (x1000; descriptors normalised per set, as in the paper)
  joint SWD  the same with the descriptors of both sets on one common scale, which extra texture cannot hide from
  checker    the checkerboard figure: the fakes' share of spectral energy above a quarter cycle per pixel over the
             real faces' (1.0: no high-frequency texture added)

next to the real-vs-real floors: held-out real faces (`--holdout`, or new renders of the built-in person) against
the training faces, else two halves of the training set. At the end: memorisation against the held-out faces
(data-copying z in HOG space, and the nearest-neighbour distance ratio in pixels: the median distance from a fake to
its nearest training face over the same for a held-out face; below 1 means the fakes lean towards the training
faces) and diversity (MS-SSIM of fakes vs reals).

Writes bench/out/recipes-<time>/: results.json, table.md, swd.png (joint SWD against training time) and a sample
grid per run (and, with --keep-weights, each run's final generator).
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0)


# ---------------------------------------------------------------------------------------------------- child side
def snapshot_callback(seconds, clock):
    import copy, torch
    from fastai.callback.core import Callback
    from wganface.core import clock_seconds

    class Snapshots(Callback):
        "Copy the sampling generator at fixed fractions of the time budget; count critic and generator steps"
        order = 99  # before `TimeBudget` (100), so the final batch is counted before it stops training
        def before_fit(self):
            self.t0, self.k, self.snaps, self.crit, self.gen = clock_seconds(clock), 0, [], 0, 0
            self.w0 = time.perf_counter()
        def before_batch(self):
            if self.training:
                if self.gan_trainer.gen_mode: self.gen += 1
                else: self.crit += 1
        def after_batch(self):
            if not self.training: return
            t = clock_seconds(clock) - self.t0
            if self.k < len(FRACTIONS) - 1 and t >= FRACTIONS[self.k] * seconds: self.take(t)
        def after_fit(self): self.take(clock_seconds(clock) - self.t0)
        def take(self, t):
            ema = getattr(self.learn, 'generator_ema', None)
            g = ema.ema if ema is not None else self.model.generator
            self.snaps.append(dict(seconds=t, wall=time.perf_counter() - self.w0, crit_steps=self.crit, gen_steps=self.gen,
                                   state={k: v.detach().to('cpu', copy=True) for k, v in g.state_dict().items()}))
            self.k += 1
    return Snapshots()


def stock_learner(data, seed, cbs):
    from functools import partial
    import torch
    from torch import nn
    from fastai.data.block import DataBlock, TransformBlock
    from fastai.data.transforms import IndexSplitter, Normalize, get_image_files
    from fastai.optimizer import RMSProp
    from fastai.torch_core import set_seed
    from fastai.vision.augment import Resize, ResizeMethod
    from fastai.vision.data import ImageBlock
    from fastai.vision.gan import GANLearner, basic_critic, basic_generator, generate_noise
    from wganface.data import StepsDL
    set_seed(seed)
    dblock = DataBlock(blocks=(TransformBlock, ImageBlock), get_x=partial(generate_noise, size=200),
                       get_items=get_image_files, splitter=IndexSplitter([]),
                       item_tfms=Resize(64, method=ResizeMethod.Crop),
                       batch_tfms=Normalize.from_stats(torch.tensor([0.5] * 3), torch.tensor([0.5] * 3)))
    dls = dblock.dataloaders(data, path=data, bs=64, dl_type=StepsDL, steps=100, num_workers=0)
    act = partial(nn.LeakyReLU, negative_slope=0.2)
    gen = basic_generator(64, n_channels=3, in_sz=200, n_extra_layers=1, act_cls=act)
    crit = basic_critic(64, n_channels=3, n_extra_layers=1, act_cls=act)
    options = dict(size=64, nz=200, n_features=64, n_extra_layers=1, leak=0.2, upsample='transposed')
    return GANLearner.wgan(dls, gen, crit, opt_func=RMSProp, cbs=cbs), dict(nz=200, bs=64, n_features=64, options=options)


def child(a):
    import torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.gan import TimeBudget
    from wganface.train import train
    spec = json.loads(a.child)
    snap = snapshot_callback(a.minutes * 60, a.clock)
    t = time.perf_counter()
    if spec['recipe'] == 'stock':
        learn, info = stock_learner(a.data, a.seed, [snap, TimeBudget(a.minutes, clock=a.clock)])
        with learn.no_bar(), learn.no_logging(): learn.fit(1_000_000, 2e-4, wd=0.)
        gen = learn.model.generator
    else:
        with tempfile.TemporaryDirectory() as d:
            learn = train(a.data, Path(d)/'run', minutes=a.minutes, clock=a.clock, seed=a.seed, progress=False, cbs=snap,
                          **spec.get('options', {}))
            o = (Path(learn.path)/'options.json').read_text()
        o = json.loads(o)
        info = dict(nz=o['nz'], bs=o['bs'], n_features=o['n_features'], options=o)
    wall = time.perf_counter() - t
    torch.save(dict(snaps=snap.snaps, info=info, wall=wall, threads=torch.get_num_threads()), a.out_file)


# --------------------------------------------------------------------------------------------------- parent side
def run_child(recipe, spec, minutes, seed, a, out):
    cmd = [sys.executable, __file__, '--child', json.dumps(dict(recipe=recipe, **spec)), '--minutes', str(minutes),
           '--seed', str(seed), '--threads', str(a.threads), '--clock', a.clock, '--out-file', str(out), '--data', a.data]
    p = subprocess.Popen(cmd)
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0: raise SystemExit(f"{recipe} (seed {seed}) failed with status {status}")
    return usage.ru_maxrss / 1024  # kB -> MB on Linux


def quality(fakes, reals, seed, holdout=None, flip=False):
    "The figures scored at every snapshot: SWD both ways, the checkerboard figure and (given held-out faces) copying"
    from wganface.metrics import memorisation
    from wganface.spectrum import checkerboard
    from wganface.swd import swd
    out = dict(swd=swd(fakes, reals, seed=seed)['mean'], swd_joint=swd(fakes, reals, seed=seed, norm='joint')['mean'],
               checker=checkerboard(fakes, reals)['ratio'])
    if holdout is not None:
        mem = memorisation(fakes, reals, holdout, flip=flip)
        out.update(copy_z_hog=mem['hog']['z'], nn_ratio=round(mem['pixel']['nn_ratio'], 3))
    return out


def score(res, reals, holdout, n, seed):
    "The figures of every snapshot, and memorisation and diversity of the last; off the clock"
    from wganface.metrics import memorisation, diversity
    from wganface.models import build_generator, sample_faces
    from wganface.swd import swd
    g = build_generator(res['info']['options'])
    flip = bool(res['info']['options'].get('flip'))  # a run trained on mirrored faces too: their mirrors count as training faces
    curve = []
    for s in res['snaps']:
        g.load_state_dict(s['state'])
        fakes = sample_faces(g, n=n, seed=1000 + seed)
        curve.append(dict(seconds=round(s['seconds'], 1), wall=round(s.get('wall', s['seconds']), 1), crit_steps=s['crit_steps'],
                          gen_steps=s['gen_steps'], **quality(fakes, reals, seed, holdout, flip)))
    mem = memorisation(fakes, reals, holdout, flip=flip)
    div = diversity(fakes, reals, seed=seed)
    levels = {norm: swd(fakes, reals, seed=seed, norm=norm) for norm in ('separate', 'joint')}
    return curve, fakes, dict(copy_z_hog=mem['hog']['z'], copy_z_pixel=mem['pixel']['z'],
                              nn_ratio=round(mem['pixel']['nn_ratio'], 3), nn_ratio_interval=mem['pixel']['nn_ratio_interval'],
                              nn_ratio_hog=round(mem['hog']['nn_ratio'], 3),
                              msssim_fake=div['msssim_fake'], msssim_real=div['msssim_real'], swd_levels=levels)


def floors_of(reals, holdout, seed=0):
    "Real-vs-real values of every figure: held-out faces against the training faces, and two halves of the training faces"
    out = {}
    if holdout is not None: out['holdout'] = quality(holdout, reals, seed)
    out['halves'] = quality(reals[::2], reals[1::2], seed)
    return out


def first_time_below(curve, target, key='swd'):
    for c in curve:
        if c[key] <= target: return c['seconds']
    return None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--minutes', type=float, nargs='+', default=[10.], help='training-time budgets (default: 10)')
    p.add_argument('--clock', default='cpu', choices=['cpu', 'wall'], help="what a budget counts (default: cpu, the process's CPU time)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--data', default=None, help='folder of face images (default: the built-in faces)')
    p.add_argument('--holdout', default=None, help='folder of real faces not trained on: the floor (default: new renders for the built-in faces)')
    p.add_argument('--recipe', action='append', default=None, metavar='NAME=JSON',
                   help="recipes to run, in order: 'stock', 'wganface' or NAME=JSON train() options (default: stock wganface)")
    p.add_argument('--threads', type=int, default=1, help='torch threads per run (default: 1)')
    p.add_argument('--n', type=int, default=500, help='fakes scored per snapshot (default: 500)')
    p.add_argument('--keep-weights', action='store_true', help="also save each run's final generator (NAME-mM-sS-generator.pt)")
    p.add_argument('--smoke', action='store_true', help='0.5-minute budget and one seed, to check that everything runs')
    p.add_argument('--out', default=None, help='results folder (default: bench/out/recipes-<time>)')
    p.add_argument('--child', default=None, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--out-file', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    for k in ('data', 'holdout'):
        if getattr(a, k) is not None:
            setattr(a, k, str(Path(getattr(a, k)).expanduser().resolve()))
            if not Path(getattr(a, k)).is_dir(): raise SystemExit(f"--{k} '{getattr(a, k)}' is not a folder of face images")
    return a


def parse_recipes(specs):
    recipes = {}
    for r in specs or ['stock', 'wganface']:
        name, _, js = r.partition('=')
        recipes[name] = dict(options=json.loads(js)) if js else {}
        if not js and name not in ('stock', 'wganface'): raise SystemExit(f"unknown recipe {r!r}: use stock, wganface or NAME=JSON")
    return recipes


def run_one(name, spec, minutes, seed, a, reals, holdout, out):
    "Train one recipe in its own process, score it, save its grid; the row of the table"
    import torch
    from wganface.render import save_grid
    f = out/f'{name}-m{minutes:g}-s{seed}.pt'
    rss = run_child('stock' if name == 'stock' else name, spec, minutes, seed, a, f)
    res = torch.load(f, weights_only=False)
    curve, fakes, quality = score(res, reals, holdout, a.n, seed)
    save_grid(fakes[:64], out/f'{name}-m{minutes:g}-s{seed}.png', overwrite=True)
    if a.keep_weights:  # the final sampling generator, for a closer look: `build_generator(d['options']).load_state_dict(d['state'])`
        torch.save(dict(options=res['info']['options'], state=res['snaps'][-1]['state']), out/f'{name}-m{minutes:g}-s{seed}-generator.pt')
    f.unlink()
    last = curve[-1]
    return dict(recipe=name, minutes=minutes, seed=seed, train_s=last['seconds'], wall_s=last['wall'], threads=res['threads'],
                crit_steps=last['crit_steps'], gen_steps=last['gen_steps'], bs=res['info']['bs'],
                real_img_s=round(last['crit_steps'] * res['info']['bs'] / last['wall'], 1),
                swd=last['swd'], swd_joint=last['swd_joint'], checker=last['checker'], peak_mb=round(rss), curve=curve,
                **quality, options=res['info'].get('options'))


def nn_text(r):
    "The NN ratio with its 95% bootstrap interval"
    lo, hi = r['nn_ratio_interval']
    return f"{r['nn_ratio']:.2f} [{lo:.2f}, {hi:.2f}]"


def table(rows, recipes, minutes_list, floors):
    "table.md: one row per run, then the mean and range of each recipe, then the floors"
    ref = floors.get('holdout', floors['halves'])
    stock = {(r['minutes'], r['seed']): r for r in rows if r['recipe'] == 'stock'}
    lines = ['| budget | recipe | seed | critic / gen steps | real img/s | SWD | joint SWD (x floor) | checker | NN ratio [95%] | copy z (HOG) '
             '| MS-SSIM fake / real | reaches stock final SWD at | peak MB |', '|' + '---|' * 13]
    for r in rows:
        s = stock.get((r['minutes'], r['seed']))
        reach = first_time_below(r['curve'], s['swd']) if s else None
        r['reaches_stock_s'] = reach
        reach_txt = '-' if s is None or r is s else ('not reached' if reach is None else f"{reach / 60:.1f} min ({reach / r['train_s']:.0%})")
        lines.append(f"| {r['minutes']:g} min | {r['recipe']} | {r['seed']} | {r['crit_steps']} / {r['gen_steps']} | {r['real_img_s']} | "
                     f"{r['swd']:.1f} | {r['swd_joint']:.1f} ({r['swd_joint'] / ref['swd_joint']:.2f}x) | {r['checker']:.2f} | "
                     f"{nn_text(r)} | {r['copy_z_hog']:.1f} | {r['msssim_fake']:.3f} / {r['msssim_real']:.3f} | {reach_txt} | {r['peak_mb']} |")
    lines += ['', '| budget | recipe | SWD | joint SWD | joint SWD / floor | checker | NN ratio | seeds |', '|' + '---|' * 8]
    mean = lambda v: sum(v) / len(v)
    for minutes in minutes_list:
        for name in recipes:
            rs = [r for r in rows if r['recipe'] == name and r['minutes'] == minutes]
            if not rs: continue
            col = lambda k: [r[k] for r in rs]
            rng = lambda k, f='.1f': f"{mean(col(k)):{f}} ({min(col(k)):{f}}-{max(col(k)):{f}})"
            lines.append(f"| {minutes:g} min | {name} | {rng('swd')} | {rng('swd_joint')} | {mean(col('swd_joint')) / ref['swd_joint']:.2f} | "
                         f"{rng('checker', '.2f')} | {rng('nn_ratio', '.2f')} | {len(rs)} |")
    lines += ['', 'Real vs real: ' + '; '.join(f"{k}: SWD {v['swd']:.1f}, joint SWD {v['swd_joint']:.1f}, checker {v['checker']:.2f}"
                                             for k, v in floors.items())]
    return '\n'.join(lines)


def plot(rows, floors, seeds, path):
    "swd.png: joint SWD against training time, one line per run, the floors dashed"
    from wganface.render import new_figure, save_figure
    fig = new_figure((7, 4))
    ax = fig.subplots()
    colours = {}
    for r in rows:
        c = colours.setdefault(r['recipe'], f'C{len(colours)}')
        ax.plot([x['seconds'] / 60 for x in r['curve']], [x['swd_joint'] for x in r['curve']], marker='.', color=c,
                label=r['recipe'] if r['seed'] == seeds[0] else None, alpha=0.8)
    for k, v in floors.items(): ax.axhline(v['swd_joint'], ls='--', color='grey', lw=1)
    ax.set_xlabel('training time (min)'); ax.set_ylabel('joint SWD x1e3 (lower is better)'); ax.set_yscale('log')
    ax.legend(); ax.grid(alpha=0.3); fig.tight_layout()
    save_figure(fig, path)


def main():
    a = parse_args()
    if a.child:
        a.minutes = a.minutes[0]
        return child(a)
    if a.smoke: a.minutes, a.seeds = [0.5], a.seeds[:1]
    recipes = parse_recipes(a.recipe)
    out = Path(a.out) if a.out else HERE/'out'/time.strftime('recipes-%Y%m%d-%H%M%S')
    out.mkdir(parents=True, exist_ok=True)
    import torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.faces import builtin_faces_path
    from wganface.metrics import builtin_holdout, load_real_faces
    builtin = a.data is None
    data = a.data = a.data or str(builtin_faces_path())
    reals = load_real_faces(data, 64)
    holdout = load_real_faces(a.holdout, 64) if a.holdout else builtin_holdout(128, 64) if builtin else None
    floors = floors_of(reals, holdout)
    print(f"data: {data} ({len(reals)} faces), held out: {a.holdout or ('new renders' if builtin else 'none')}; floors: {floors}; "
          f"{a.threads} threads, {a.clock} clock; affinity {sorted(os.sched_getaffinity(0))}; load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    save = lambda: (out/'results.json').write_text(json.dumps(dict(floors=floors, data=data, holdout=a.holdout, threads=a.threads,
                                                                   clock=a.clock, rows=rows), indent=1))
    for minutes in a.minutes:
        for seed in a.seeds:
            for name, spec in recipes.items():
                print(f"-- {name}, seed {seed}, {minutes} {a.clock} min (load {os.getloadavg()[0]:.2f})", flush=True)
                row = run_one(name, spec, minutes, seed, a, reals, holdout, out)
                rows.append(row)
                print(f"   {row['crit_steps']} critic + {row['gen_steps']} generator steps in {row['wall_s']:.0f} s, {row['real_img_s']} real img/s, "
                      f"SWD {row['swd']:.1f}, joint {row['swd_joint']:.1f}, checker {row['checker']:.2f}, NN ratio {nn_text(row)}, "
                      f"copy z {row['copy_z_hog']:.1f}, MS-SSIM {row['msssim_fake']:.3f} (real {row['msssim_real']:.3f}), peak {row['peak_mb']} MB", flush=True)
                save()
    text = table(rows, recipes, a.minutes, floors)
    (out/'table.md').write_text(text + '\n')
    save()
    plot(rows, floors, a.seeds, out/'swd.png')
    print('\n' + text + f'\n\nresults: {out}')


if __name__ == '__main__': main()
