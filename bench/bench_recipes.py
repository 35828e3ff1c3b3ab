"""Stock fastai WGAN against wganface's default recipe, side by side at the same training-time budget.

    python bench/bench_recipes.py                           # 10-minute budget, seeds 0 1 2, built-in faces
    python bench/bench_recipes.py --minutes 10 30 --data ~/my-faces --seeds 0
    python bench/bench_recipes.py --smoke                   # 0.5 minutes, one seed: checks that everything runs
    python bench/bench_recipes.py --minutes 4 --seeds 0 --recipe nf32='{"n_features": 32}'   # try a variant

Recipes:
  stock     fastai's GAN notebook / the original project: basic_generator + basic_critic (64 features, one extra
            layer, LeakyReLU 0.2), 200-d noise, GANLearner.wgan (FixedGANSwitcher 5:1, clip 0.01), RMSProp lr 2e-4,
            wd 0, batch 64, fastai's DataBlock (get_image_files, Resize crop, Normalize) decoding images per batch.
            Two things are changed so that it trains at all on a tiny folder: batches are drawn with replacement
            (42 images < batch 64 would give zero batches) and there are no worker processes (2 cores here).
  wganface  `wganface.train.train()` with its defaults: exactly what `wganface train DATA` does.
  NAME=JSON `train()` defaults overridden by the JSON options (for choosing defaults).

Runs alternate (seed 0: stock, wganface; seed 1: stock, wganface; ...) so machine noise hits every recipe, and each
runs in its own process (peak memory is that process's). Training stops when the budget of wall-clock time is
spent (`TimeBudget`); along the way the generator used for sampling (the moving average for wganface) is copied at
fixed fractions of the budget, and scored after training, off the clock: SWD of 500 fakes against the training
faces, next to the real-vs-real floors (two halves of the training set; new renders of the built-in person).
At the end: memorisation (data-copying z in HOG space) and diversity (MS-SSIM of fakes vs reals).

Writes bench/out/recipes-<time>/: results.json, table.md, swd.png (SWD against training time) and a sample
grid per run.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0)


# ---------------------------------------------------------------------------------------------------- child side
def snapshot_callback(seconds):
    import copy, torch
    from fastai.callback.core import Callback

    class Snapshots(Callback):
        "Copy the sampling generator at fixed fractions of the time budget; count critic and generator steps"
        order = 99  # before `TimeBudget` (100), so the final batch is counted before it stops training
        def before_fit(self):
            self.t0, self.k, self.snaps, self.crit, self.gen = time.perf_counter(), 0, [], 0, 0
        def before_batch(self):
            if self.training:
                if self.gan_trainer.gen_mode: self.gen += 1
                else: self.crit += 1
        def after_batch(self):
            if not self.training: return
            t = time.perf_counter() - self.t0
            if self.k < len(FRACTIONS) - 1 and t >= FRACTIONS[self.k] * seconds: self.take(t)
        def after_fit(self): self.take(time.perf_counter() - self.t0)
        def take(self, t):
            ema = getattr(self.learn, 'generator_ema', None)
            g = ema.ema if ema is not None else self.model.generator
            self.snaps.append(dict(seconds=t, crit_steps=self.crit, gen_steps=self.gen,
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
    return GANLearner.wgan(dls, gen, crit, opt_func=RMSProp, cbs=cbs), dict(nz=200, bs=64, n_features=64)


def child(a):
    import torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.gan import TimeBudget
    from wganface.train import train
    spec = json.loads(a.child)
    snap = snapshot_callback(a.minutes * 60)
    t = time.perf_counter()
    if spec['recipe'] == 'stock':
        learn, info = stock_learner(a.data, a.seed, [snap, TimeBudget(a.minutes)])
        with learn.no_bar(), learn.no_logging(): learn.fit(1_000_000, 2e-4, wd=0.)
        gen = learn.model.generator
    else:
        with tempfile.TemporaryDirectory() as d:
            learn = train(a.data, Path(d)/'run', minutes=a.minutes, seed=a.seed, progress=False, cbs=snap,
                          **spec.get('options', {}))
            o = (Path(learn.path)/'options.json').read_text()
        o = json.loads(o)
        info = dict(nz=o['nz'], bs=o['bs'], n_features=o['n_features'], options=o)
        gen = learn.model.generator
    wall = time.perf_counter() - t
    torch.save(dict(snaps=snap.snaps, info=info, wall=wall,
                    arch=dict(n_features=info['n_features'], nz=info['nz'],
                              n_extra_layers=info.get('options', {}).get('n_extra_layers', 1),
                              leak=info.get('options', {}).get('leak', 0.2))), a.out_file)


# --------------------------------------------------------------------------------------------------- parent side
def run_child(recipe, spec, minutes, seed, a, out):
    cmd = [sys.executable, __file__, '--child', json.dumps(dict(recipe=recipe, **spec)), '--minutes', str(minutes),
           '--seed', str(seed), '--threads', str(a.threads), '--out-file', str(out), '--data', a.data]
    p = subprocess.Popen(cmd)
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0: raise SystemExit(f"{recipe} (seed {seed}) failed with status {status}")
    return usage.ru_maxrss / 1024  # kB -> MB on Linux


def score(res, reals, holdout, n, seed):
    "SWD of every snapshot, memorisation and diversity of the last; off the clock"
    import torch
    from wganface.metrics import memorisation, diversity
    from wganface.swd import swd
    from wganface.models import face_generator
    from wganface.models import sample_faces
    arch = res['arch']
    g = face_generator(64, nz=arch['nz'], n_features=arch['n_features'], n_extra_layers=arch['n_extra_layers'], leak=arch['leak'])
    curve = []
    for s in res['snaps']:
        g.load_state_dict(s['state'])
        fakes = sample_faces(g, n=n, seed=1000 + seed)
        curve.append(dict(seconds=round(s['seconds'], 1), crit_steps=s['crit_steps'], gen_steps=s['gen_steps'],
                          swd=swd(fakes, reals, seed=seed)['mean']))
    mem = memorisation(fakes, reals, holdout)
    div = diversity(fakes, reals, seed=seed)
    return curve, fakes, dict(copy_z_hog=mem['hog']['z'], copy_z_pixel=mem['pixel']['z'],
                              msssim_fake=div['msssim_fake'], msssim_real=div['msssim_real'])


def first_time_below(curve, target):
    for c in curve:
        if c['swd'] <= target: return c['seconds']
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--minutes', type=float, nargs='+', default=[10.], help='training-time budgets (default: 10)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--data', default=None, help='folder of face images (default: the built-in faces)')
    p.add_argument('--recipe', action='append', default=None, metavar='NAME=JSON',
                   help="recipes to run, in order: 'stock', 'wganface' or NAME=JSON train() options (default: stock wganface)")
    p.add_argument('--threads', type=int, default=2, help='torch threads per run (default: 2)')
    p.add_argument('--n', type=int, default=500, help='fakes scored per snapshot (default: 500)')
    p.add_argument('--smoke', action='store_true', help='0.5-minute budget and one seed, to check that everything runs')
    p.add_argument('--out', default=None, help='results folder (default: bench/out/recipes-<time>)')
    p.add_argument('--child', default=None, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--out-file', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        a.minutes = a.minutes[0]
        return child(a)
    if a.smoke: a.minutes, a.seeds = [0.5], a.seeds[:1]
    if a.data is not None:
        a.data = str(Path(a.data).expanduser().resolve())
        if not Path(a.data).is_dir(): raise SystemExit(f"--data '{a.data}' is not a folder of face images")
    recipes = {}
    for r in a.recipe or ['stock', 'wganface']:
        name, _, js = r.partition('=')
        recipes[name] = dict(options=json.loads(js)) if js else {}
        if not js and name not in ('stock', 'wganface'): raise SystemExit(f"unknown recipe {r!r}: use stock, wganface or NAME=JSON")
    out = Path(a.out) if a.out else HERE/'out'/time.strftime('recipes-%Y%m%d-%H%M%S')
    out.mkdir(parents=True, exist_ok=True)

    import torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.data import load_face_folder
    from wganface.metrics import builtin_holdout, faces_tensor
    from wganface.swd import swd
    from wganface.faces import builtin_faces_path
    from wganface.render import save_grid, new_figure, save_figure
    builtin = a.data is None
    data = a.data = a.data or str(builtin_faces_path())
    reals = faces_tensor(load_face_folder(data, 64)[0])
    holdout = builtin_holdout(128, 64) if builtin else None
    floors = dict(real_halves=swd(reals[::2], reals[1::2])['mean'])
    if holdout is not None: floors['new_renders'] = swd(holdout, reals)['mean']
    print(f"data: {data} ({len(reals)} faces); SWD floors: {floors}; {a.threads} threads; load {os.getloadavg()[0]:.2f}", flush=True)

    rows = []
    for minutes in a.minutes:
        for seed in a.seeds:
            for name, spec in recipes.items():
                print(f"-- {name}, seed {seed}, {minutes} min", flush=True)
                f = out/f'{name}-m{minutes:g}-s{seed}.pt'
                rss = run_child('stock' if name == 'stock' else name, spec, minutes, seed, a, f)
                res = torch.load(f, weights_only=False)
                curve, fakes, quality = score(res, reals, holdout, a.n, seed)
                save_grid(fakes[:64], out/f'{name}-m{minutes:g}-s{seed}.png', overwrite=True)
                last = curve[-1]
                row = dict(recipe=name, minutes=minutes, seed=seed, train_s=round(last['seconds'], 1),
                           crit_steps=last['crit_steps'], gen_steps=last['gen_steps'], bs=res['info']['bs'],
                           real_img_s=round(last['crit_steps'] * res['info']['bs'] / last['seconds'], 1),
                           swd=last['swd'], peak_mb=round(rss), curve=curve, **quality,
                           options=res['info'].get('options'))
                rows.append(row)
                f.unlink()
                print(f"   {row['crit_steps']} critic + {row['gen_steps']} generator steps, {row['real_img_s']} real img/s, "
                      f"SWD {row['swd']:.1f}, copy z {row['copy_z_hog']:.1f}, MS-SSIM {row['msssim_fake']:.3f} "
                      f"(real {row['msssim_real']:.3f}), peak {row['peak_mb']} MB", flush=True)
                (out/'results.json').write_text(json.dumps(dict(floors=floors, data=data, threads=a.threads, rows=rows), indent=1))

    # the side-by-side table, and when each recipe first reached stock's final SWD (same budget and seed)
    stock = {(r['minutes'], r['seed']): r for r in rows if r['recipe'] == 'stock'}
    lines = ['| budget | recipe | seed | critic / gen steps | real img/s | SWD (x1e3) | reaches stock final SWD at | copy z (HOG) | MS-SSIM fake / real | peak MB |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        s = stock.get((r['minutes'], r['seed']))
        reach = first_time_below(r['curve'], s['swd']) if s else None
        r['reaches_stock_s'] = reach
        reach_txt = '-' if s is None or r is s else ('not reached' if reach is None else f"{reach / 60:.1f} min ({reach / r['train_s']:.0%})")
        lines.append(f"| {r['minutes']:g} min | {r['recipe']} | {r['seed']} | {r['crit_steps']} / {r['gen_steps']} | {r['real_img_s']} | "
                     f"{r['swd']:.1f} | {reach_txt} | {r['copy_z_hog']:.1f} | {r['msssim_fake']:.3f} / {r['msssim_real']:.3f} | {r['peak_mb']} |")
    lines.append('')
    lines.append('| budget | recipe | SWD mean | SWD min-max | seeds |')
    lines.append('|---|---|---|---|---|')
    for minutes in a.minutes:
        for name in recipes:
            v = [r['swd'] for r in rows if r['recipe'] == name and r['minutes'] == minutes]
            lines.append(f"| {minutes:g} min | {name} | {sum(v) / len(v):.1f} | {min(v):.1f}-{max(v):.1f} | {len(v)} |")
    lines.append('')
    lines.append('SWD floors (real vs real): ' + ', '.join(f'{k} {v:.1f}' for k, v in floors.items()))
    table = '\n'.join(lines)
    (out/'table.md').write_text(table + '\n')
    (out/'results.json').write_text(json.dumps(dict(floors=floors, data=data, threads=a.threads, rows=rows), indent=1))

    fig = new_figure((7, 4))
    ax = fig.subplots()
    colours = {}
    for r in rows:
        c = colours.setdefault(r['recipe'], f'C{len(colours)}')
        ax.plot([x['seconds'] / 60 for x in r['curve']], [x['swd'] for x in r['curve']], marker='.', color=c,
                label=r['recipe'] if r['seed'] == a.seeds[0] else None, alpha=0.8)
    for k, v in floors.items(): ax.axhline(v, ls='--', color='grey', lw=1)
    ax.set_xlabel('training time (min)'); ax.set_ylabel('SWD x1e3 (lower is better)'); ax.set_yscale('log')
    ax.legend(); ax.grid(alpha=0.3); fig.tight_layout()
    save_figure(fig, out/'swd.png')
    print('\n' + table + f'\n\nresults: {out}')


if __name__ == '__main__': main()
