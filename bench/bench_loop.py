"""Training-loop overhead: wganface's fastai loop against a plain PyTorch loop running the same WGAN.

Both train the same generator and critic (fastai's basic_generator / basic_critic with LeakyReLU) on the built-in
faces, with RMSProp, weight clipping and n_crit critic steps per generator step, for the same number of steps.
Prints real images per second (batches of real faces the critic saw, plus the generator's batches) for each.

    python bench/bench_loop.py                      # n_features 64, batch 64, 60 steps, 2 threads
    python bench/bench_loop.py --n-features 16 --bs 16 --steps 300
"""
import argparse, time, warnings
import torch
from fastai.torch_core import set_seed

def plain_loop(imgs, gen, crit, steps, bs, nz, n_crit, lr, clip):
    "The WGAN recipe written out in PyTorch: what fastai's loop costs is measured against this"
    opt_g = torch.optim.RMSprop(gen.parameters(), lr=lr, alpha=0.99, eps=1e-5)
    opt_c = torch.optim.RMSprop(crit.parameters(), lr=lr, alpha=0.99, eps=1e-5)
    t = time.perf_counter()
    for step in range(steps):
        if step % (n_crit + 1) < n_crit:
            for p in crit.parameters(): p.data.clamp_(-clip, clip)
            real = imgs[torch.randint(0, len(imgs), (bs,))]
            with torch.no_grad(): fake = gen(torch.randn(bs, nz))
            loss = crit(real).mean() - crit(fake).mean()
            opt_c.zero_grad(); loss.backward(); opt_c.step()
        else:
            for p in crit.parameters(): p.requires_grad_(False)
            loss = crit(gen(torch.randn(bs, nz))).mean()
            opt_g.zero_grad(); loss.backward(); opt_g.step()
            for p in crit.parameters(): p.requires_grad_(True)
    return time.perf_counter() - t

def fastai_loop(dls, gen, crit, steps, n_crit, lr, clip):
    from wganface.train import wgan_learner
    learn = wgan_learner(dls, gen, crit, n_crit=n_crit, lr=lr, clip=clip)
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, lr)
    return time.perf_counter() - t

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n-features', type=int, default=64)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--steps', type=int, default=60, help='optimiser steps per measurement (critic + generator)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=2, help='measurements of each loop, alternating')
    a = p.parse_args()
    warnings.simplefilter('ignore')
    torch.set_num_threads(a.threads)
    from wganface.data import face_dls
    from wganface.models import face_generator, face_critic
    nz, n_crit, lr, clip = 200, 5, 2e-4, 0.01
    dls = face_dls(bs=a.bs, nz=nz, steps_per_epoch=a.steps, device='cpu')
    from wganface.data import load_face_folder
    from wganface.faces import builtin_faces_path
    imgs = torch.from_numpy(load_face_folder(builtin_faces_path())[0]).permute(0, 3, 1, 2).float() / 127.5 - 1
    make = lambda: (face_generator(64, nz=nz, n_features=a.n_features), face_critic(64, n_features=a.n_features))
    results = {'plain PyTorch': [], 'wganface (fastai)': []}
    for r in range(a.repeats):
        set_seed(r); g, c = make()
        results['plain PyTorch'].append(plain_loop(imgs, g, c, a.steps, a.bs, nz, n_crit, lr, clip))
        set_seed(r); g, c = make()
        results['wganface (fastai)'].append(fastai_loop(dls, g, c, a.steps, n_crit, lr, clip))
    print(f"n_features {a.n_features}, batch {a.bs}, {a.steps} steps (n_crit {n_crit}), {a.threads} threads, best of {a.repeats}")
    best = {k: min(v) for k, v in results.items()}
    for k, s in best.items():
        print(f"{k:<20} {s:7.1f} s  {a.steps * a.bs / s:7.1f} images/s")
    print(f"wganface / plain: {best['plain PyTorch'] / best['wganface (fastai)']:.0%} of the plain loop's images/s")

if __name__ == '__main__': main()
