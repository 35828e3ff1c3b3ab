"""Training-loop overhead: wganface's fastai loop against a plain PyTorch loop running the same WGAN recipe.

Both train the same generator and critic (fastai's basic_generator / basic_critic with LeakyReLU) on the built-in
faces, with the same recipe: by default `train()`'s defaults (penalty, optimiser, critic steps, moving average);
options override them. Measured for the same number of steps, alternating, best of `--repeats`, in the process's
CPU seconds by default (`--clock cpu`: with one thread, other programs on the machine change it far less than wall time):

  plain PyTorch         the recipe written out in PyTorch over a tensor of the faces, with denormal floats treated
                        as zero, as wganface's learner does while it trains (`core.flushing_denormals`)
  plain, denormals kept the same loop with torch's default: what flushing denormals gains
  wganface              `train()` itself (tensor batches on the device, fastai's Learner and callbacks, run folder)
  wganface, DataBlock   the same learner fed by fastai's per-item DataBlock pipeline (`face_dls(in_memory=False)`)

    taskset -c 1 python bench/bench_loop.py                     # train()'s defaults, 1 thread, on a core of its own
    python bench/bench_loop.py --clock wall                     # wall-clock seconds instead of the process's CPU seconds
    python bench/bench_loop.py --n-features 64 --bs 64 --penalty clip --opt rmsprop --lr 2e-4 --n-crit 5 --ema 0
    python bench/bench_loop.py --profile                        # where one epoch of train() spends its time (cProfile)
"""
import argparse, copy, cProfile, inspect, pstats, tempfile, time, warnings
from pathlib import Path
import torch
from fastai.torch_core import set_seed
from wganface.core import clock_seconds, flushing_denormals


def plain_loop(imgs, gen, crit, a):
    "The recipe in PyTorch: what fastai's loop costs is measured against this"
    if a.opt == 'adam':
        make = lambda ps: torch.optim.Adam(ps, lr=a.lr, betas=(0., 0.99), eps=1e-5)
    else:
        make = lambda ps: torch.optim.RMSprop(ps, lr=a.lr, alpha=0.99, eps=1e-5)
    opt_g, opt_c = make(gen.parameters()), make(crit.parameters())
    ema = copy.deepcopy(gen).requires_grad_(False) if a.ema else None
    n_pen = 0
    from wganface.augment import diff_augment
    judge = (lambda x: crit(diff_augment(x, a.diffaug, a.diffaug_p, a.cutout))) if a.diffaug else crit  # DiffAugment inside the critic, as train() hooks it
    t = clock_seconds(a.clock)
    for step in range(a.steps):
        if step % (a.n_crit + 1) < a.n_crit:
            if a.penalty == 'clip':
                for p in crit.parameters(): p.data.clamp_(-a.clip, a.clip)
            real = imgs[torch.randint(0, len(imgs), (a.bs,))]
            due = a.penalty != 'clip' and n_pen % a.penalty_every == 0
            if a.penalty != 'clip': n_pen += 1
            if due and a.penalty == 'r1': real.requires_grad_(True)
            with torch.no_grad(): fake = gen(torch.randn(a.bs, a.nz))
            real_pred = judge(real)
            loss = real_pred.mean() - judge(fake).mean()
            if a.penalty != 'clip': loss = loss + 1e-3 * real_pred.pow(2).mean()
            if due and a.penalty == 'r1':
                g, = torch.autograd.grad(real_pred.sum(), real, create_graph=True)
                loss = loss + a.penalty_weight * a.penalty_every * g.flatten(1).pow(2).sum(1).mean() / 2
            elif due and a.penalty == 'gp':
                eps = torch.rand(a.bs, 1, 1, 1)
                mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
                g, = torch.autograd.grad(judge(mix).sum(), mix, create_graph=True)
                loss = loss + a.penalty_weight * a.penalty_every * (g.flatten(1).norm(dim=1) - 1).pow(2).mean()
            opt_c.zero_grad(); loss.backward(); opt_c.step()
        else:
            for p in crit.parameters(): p.requires_grad_(False)
            loss = judge(gen(torch.randn(a.bs, a.nz))).mean()  # fastai's WGAN convention: the critic scores reals low
            opt_g.zero_grad(); loss.backward(); opt_g.step()
            for p in crit.parameters(): p.requires_grad_(True)
            if ema is not None:
                with torch.no_grad():
                    for e, p in zip(ema.parameters(), gen.parameters()): e.lerp_(p, 1 - a.ema)
    return clock_seconds(a.clock) - t


def fastai_learner_loop(dls, gen, crit, a):
    "The learner `train()` builds, without its run folder, fed by `dls`"
    from wganface.optim import opt_func
    from wganface.penalty import CriticPenalty
    from wganface.train import GeneratorEMA, wgan_learner
    from wganface.augment import add_diff_augment
    if a.diffaug: add_diff_augment(crit, a.diffaug, a.diffaug_p, a.cutout)
    cbs = [GeneratorEMA(a.ema)] if a.ema else []
    if a.penalty != 'clip': cbs.append(CriticPenalty(a.penalty, a.penalty_weight, a.penalty_every))
    learn = wgan_learner(dls, gen, crit, n_crit=a.n_crit, lr=a.lr, clip=a.clip if a.penalty == 'clip' else None,
                         opt_func=opt_func(a.opt), cbs=cbs)
    t = clock_seconds(a.clock)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, a.lr)
    return clock_seconds(a.clock) - t


def train_loop(seed, a):
    "`train()` end to end: one epoch of `steps`, timed from the start to the end of `fit` (setup excluded)"
    from fastai.callback.core import Callback
    from wganface.train import train

    class Clock(Callback):
        order = 200
        def before_fit(self): self.t = clock_seconds(a.clock)
        def after_fit(self): self.seconds = clock_seconds(a.clock) - self.t

    clock = Clock()
    with tempfile.TemporaryDirectory() as d:
        train(out=Path(d)/'run', epochs=1, steps_per_epoch=a.steps, seed=seed, progress=False, device='cpu', cbs=clock,
              **{k: getattr(a, k) for k in RECIPE})
    return clock.seconds


RECIPE = ('bs', 'n_features', 'upsample', 'n_crit', 'lr', 'opt', 'penalty', 'penalty_weight', 'penalty_every', 'clip', 'ema', 'diffaug', 'diffaug_p', 'cutout')


def profile(a, top:int=25):
    "cProfile of one epoch of `train()` after a warm-up epoch: the functions that take the most time of their own"
    train_loop(0, argparse.Namespace(**{**vars(a), 'steps': 20}))
    pr = cProfile.Profile()
    pr.enable()
    train_loop(0, a)
    pr.disable()
    pstats.Stats(pr).sort_stats('tottime').print_stats(top)


def main():
    from wganface.train import train
    from wganface.penalty import default_penalty_weight
    from wganface.options import TrainOptions
    d = {k: v.default for k, v in inspect.signature(train).parameters.items()}
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n-features', type=int, default=d['n_features'])
    p.add_argument('--upsample', default=d['upsample'], choices=['transposed', 'nearest', 'bilinear'])
    p.add_argument('--bs', type=int, default=d['bs'])
    p.add_argument('--n-crit', type=int, default=TrainOptions().n_crit)  # train()'s default without --condition
    p.add_argument('--lr', type=float, default=d['lr'])
    p.add_argument('--opt', default=d['opt'], choices=['rmsprop', 'adam'])
    p.add_argument('--penalty', default=d['penalty'], choices=['clip', 'gp', 'r1'])
    p.add_argument('--penalty-weight', type=float, default=d['penalty_weight'])
    p.add_argument('--penalty-every', type=int, default=d['penalty_every'])
    p.add_argument('--clip', type=float, default=d['clip'])
    p.add_argument('--ema', type=float, default=d['ema'])
    p.add_argument('--diffaug', default=d['diffaug'], help="DiffAugment policy ('' for none; 'auto' as train() decides it)")
    p.add_argument('--diffaug-p', type=float, default=d['diffaug_p'], help='share of images each augmentation is applied to')
    p.add_argument('--cutout', type=float, default=d['cutout'], help="side of the cutout square, as a share of the image's side")
    p.add_argument('--steps', type=int, default=300, help='optimiser steps per measurement (critic + generator)')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--clock', default='cpu', choices=['cpu', 'wall'], help="what is timed: the process's CPU seconds (default) or wall-clock seconds")
    p.add_argument('--repeats', type=int, default=2, help='measurements of each loop, alternating')
    p.add_argument('--profile', action='store_true', help="profile one epoch of train() instead, and print where the time goes")
    a = p.parse_args()
    if a.penalty_weight is None: a.penalty_weight = default_penalty_weight(a.penalty)
    a.nz = 200
    warnings.simplefilter('ignore')
    torch.set_num_threads(a.threads)
    if a.profile: return profile(a)
    from wganface.data import face_dls, faces_to_tensor, load_face_folder
    from wganface.faces import builtin_faces_path
    from wganface.models import face_generator, face_critic
    from wganface.augment import resolve_diffaug
    imgs = faces_to_tensor(load_face_folder(builtin_faces_path())[0])
    a.diffaug = resolve_diffaug(a.diffaug, imgs)  # 'auto' as train() decides it for these faces
    norm = 'batch' if a.penalty == 'clip' else 'none'
    make = lambda: (face_generator(64, nz=a.nz, n_features=a.n_features, upsample=a.upsample), face_critic(64, n_features=a.n_features, norm=norm))
    dls = {k: face_dls(bs=a.bs, nz=a.nz, steps_per_epoch=a.steps, device='cpu', in_memory=k) for k in (True, False)}
    results = {'plain PyTorch': [], 'plain, denormals kept': [], 'wganface learner': [], 'wganface train()': [], 'wganface, DataBlock': []}
    for r in range(a.repeats):
        for flush, name in ((True, 'plain PyTorch'), (False, 'plain, denormals kept')):
            set_seed(r); g, c = make()
            with flushing_denormals(flush): results[name].append(plain_loop(imgs, g, c, a))
        set_seed(r); g, c = make()
        results['wganface learner'].append(fastai_learner_loop(dls[True], g, c, a))
        results['wganface train()'].append(train_loop(r, a))
        set_seed(r); g, c = make()
        results['wganface, DataBlock'].append(fastai_learner_loop(dls[False], g, c, a))
    import os
    print(f"recipe: {', '.join(f'{k}={getattr(a, k)}' for k in RECIPE)}; {a.steps} steps, {a.threads} threads, best of {a.repeats}, {a.clock} clock; "
          f"cores {sorted(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.2f}")
    best = {k: min(v) for k, v in results.items()}
    for k, s in best.items():
        print(f"{k:<22} {s:7.1f} s  {a.steps * a.bs / s:7.1f} images/s  {best['plain PyTorch'] / s:5.0%} of plain")


if __name__ == '__main__': main()
