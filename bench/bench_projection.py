"""How well `project` brings a face back into the latent space, and how fast: round trips, new photos, expressions, time.

    python bench/bench_projection.py runs/demo                 # a run trained on the built-in faces (`wganface demo`)
    python bench/bench_projection.py runs/demo --n 4 --steps 100   # a quick check

1. Round trip: `--n` faces the generator made itself (seeds 20000...), projected back. Share with PSNR >= 30 dB
   (target: 90%), and how many beat the best of 1,000 random samples (the highest PSNR among 1,000 seeded latents).
2. New photos of the built-in person (renders with seed 7, never trained on): PSNR of the projection against the
   best of 1,000 random samples, and whether the expression survives: an independent meter (ridge regression on HOG
   features, fitted on 600 other renders with their true labels) reads smile, mouth_open and eye_open off the
   render, off its projection and off the best random sample; the table gives each one's correlation with the
   true values and its mean absolute error.
3. Time per photo for the default settings: CPU seconds of this process (one torch thread unless --threads) and
   wall-clock seconds, without and with an encoder start. The encoder is fitted once, into a copy of the run.

Each section runs without the encoder (`encoder=None`) and with it. Writes results.json, table.md and sheets of
targets / projections into bench/out/projection-<time>/.
"""
import argparse, json, shutil, sys, tempfile, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPRESSIONS = ('smile', 'mouth_open', 'eye_open')


def best_random_psnr(G, targets, n=1000, seed=99, bs=250):
    "Per target, the highest PSNR among `n` seeded random faces, and that face"
    import torch
    from wganface.latents import sample_noise, to_typical
    from wganface.models import latent_dims, sample_faces
    from wganface.projection import psnr
    faces = sample_faces(G, z=to_typical(sample_noise(n, latent_dims(G), seed=seed)), bs=bs)
    scores = torch.stack([psnr(faces, t[None]) for t in targets])  # (targets, n)
    return scores.max(1).values, faces[scores.argmax(1)]


def expression_meter(size, n=600, seed=100):
    "Ridge regression on HOG features of renders, fitted to their true expression labels: (predict(faces) -> (N,3), R^2 on 200 more)"
    import numpy as np
    from sklearn.linear_model import Ridge
    from wganface.faces import sample_face_params
    from wganface.metrics import builtin_holdout, hog_features
    x, y = builtin_holdout(n + 200, size, seed), np.array([[p[k] for k in EXPRESSIONS] for p in sample_face_params(n + 200, seed)])
    f = hog_features(x).numpy()
    ridge = Ridge(alpha=1.0).fit(f[:n], y[:n])
    r2 = [float(1 - ((ridge.predict(f[n:])[:, j] - y[n:, j]) ** 2).mean() / y[n:, j].var()) for j in range(len(EXPRESSIONS))]
    return (lambda faces: ridge.predict(hog_features(faces).numpy())), r2


def agreement(pred, true):
    "Per expression: Pearson r and mean absolute error of `pred` against `true`"
    import numpy as np
    return {k: dict(r=round(float(np.corrcoef(pred[:, j], true[:, j])[0, 1]), 3), mae=round(float(np.abs(pred[:, j] - true[:, j]).mean()), 3))
            for j, k in enumerate(EXPRESSIONS)}


def project_all(run, targets, encoder, steps):
    import torch
    from wganface.projection import project
    out, cpu = [], []
    for t in targets:
        c0 = time.process_time()
        out.append(project(run, t, steps=steps, encoder=encoder, progress=False))
        cpu.append(time.process_time() - c0)
    return out, cpu


def sheet(rows, path):
    "Rows of faces (each (N,3,H,W)) as one PNG, one row each"
    import torch
    from wganface.render import save_grid
    save_grid(torch.cat(rows), path, ncol=len(rows[0]), scale=2, overwrite=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('run', help='a run trained on the built-in faces (folder or checkpoint)')
    p.add_argument('--n', type=int, default=16, help='faces per section (default: 16)')
    p.add_argument('--steps', type=int, default=300, help="projection steps (default: project's 300)")
    p.add_argument('--encoder-steps', type=int, default=1500, help='steps to fit the encoder (default: 1500)')
    p.add_argument('--threads', type=int, default=1, help='torch threads (default: 1)')
    p.add_argument('--out', default=None, help='results folder (default: bench/out/projection-<time>)')
    a = p.parse_args()
    import numpy as np, torch
    torch.set_num_threads(a.threads)
    warnings.simplefilter('ignore')
    from wganface.faces import sample_face_params
    from wganface.latents import sample_noise
    from wganface.metrics import builtin_holdout
    from wganface.models import sample_faces
    from wganface.projection import fit_run_encoder, run_encoder
    from wganface.runs import as_run, find_checkpoint
    out = Path(a.out) if a.out else HERE/'out'/time.strftime('projection-%Y%m%d-%H%M%S')
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        # a copy of the run, so that fitting the encoder writes nothing into the user's run folder
        (Path(d)/'checkpoints').mkdir()
        shutil.copy(find_checkpoint(a.run), Path(d)/'checkpoints'/find_checkpoint(a.run).name)
        c0, t0 = time.process_time(), time.perf_counter()
        fit_run_encoder(d, steps=a.encoder_steps, progress=False)
        enc_fit = dict(cpu_s=round(time.process_time() - c0, 1), wall_s=round(time.perf_counter() - t0, 1), steps=a.encoder_steps)
        print(f"encoder fitted in {enc_fit['cpu_s']} CPU s ({enc_fit['wall_s']} s wall)", flush=True)
        run = as_run(d, critic=True, device='cpu')
        encoder = run_encoder(run)
        G = run.generator
        made = sample_faces(G, z=sample_noise(a.n, run.nz, seed=20_000))
        renders = builtin_holdout(a.n, run.size, seed=7)
        truth = np.array([[q[k] for k in EXPRESSIONS] for q in sample_face_params(a.n, 7)])
        meter, meter_r2 = expression_meter(run.size)
        res = dict(run=str(find_checkpoint(a.run)), n=a.n, steps=a.steps, threads=a.threads, encoder_fit=enc_fit,
                   meter_r2=dict(zip(EXPRESSIONS, [round(v, 3) for v in meter_r2])))
        rand_made, rand_made_faces = best_random_psnr(G, made)
        rand_render, rand_render_faces = best_random_psnr(G, renders)
        res['renders_meter'] = dict(target=agreement(meter(renders), truth), best_random=agreement(meter(rand_render_faces), truth))
        for name, enc in (('no encoder', None), ('encoder', encoder)):
            pm, cpu_m = project_all(run, made, enc, a.steps)
            pr, cpu_r = project_all(run, renders, enc, a.steps)
            psnr_m = np.array([q.psnr for q in pm]); psnr_r = np.array([q.psnr for q in pr])
            proj_r = torch.stack([q.image for q in pr])
            res[name] = dict(
                round_trip=dict(psnr=psnr_m.round(2).tolist(), share_30db=float((psnr_m >= 30).mean()),
                                beat_best_random=int((psnr_m > rand_made.numpy()).sum()), best_random_psnr=rand_made.numpy().round(2).tolist(),
                                won_by=[q.start for q in pm]),
                renders=dict(psnr=psnr_r.round(2).tolist(), mean_psnr=round(float(psnr_r.mean()), 2),
                             best_random_mean_psnr=round(float(rand_render.mean()), 2), beat_best_random=int((psnr_r > rand_render.numpy()).sum()),
                             out_of_range=int(sum(q.out_of_range for q in pr)), meter=agreement(meter(proj_r), truth), won_by=[q.start for q in pr]),
                seconds=dict(cpu_mean=round(float(np.mean(cpu_m + cpu_r)), 1), cpu_max=round(float(np.max(cpu_m + cpu_r)), 1),
                             wall_mean=round(float(np.mean([q.seconds for q in pm + pr])), 1)))
            print(name, json.dumps({k: v for k, v in res[name].items()}, indent=None)[:600], flush=True)
            tag = name.replace(' ', '-')
            sheet([made, torch.stack([q.image for q in pm]), rand_made_faces], out/f'round-trip-{tag}.png')
            sheet([renders, proj_r, rand_render_faces], out/f'renders-{tag}.png')
    (out/'results.json').write_text(json.dumps(res, indent=1))
    (out/'table.md').write_text(table(res))
    print(table(res))
    print(f"Wrote {out}")


def table(res):
    lines = [f"run {res['run']}, {res['n']} faces per section, {res['steps']} steps, {res['threads']} torch thread(s); "
             f"encoder fitted in {res['encoder_fit']['cpu_s']} CPU s ({res['encoder_fit']['steps']} steps)", '',
             '| start | round trip >= 30 dB | beats best of 1,000 random | renders: PSNR (best random) | renders beating best random | out of range | smile r (MAE) | mouth_open r | eye_open r | CPU s / photo (max) | wall s |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for name in ('no encoder', 'encoder'):
        r = res[name]; m = r['renders']['meter']
        lines.append(f"| {name} | {r['round_trip']['share_30db']:.0%} | {r['round_trip']['beat_best_random']}/{res['n']} | "
                     f"{r['renders']['mean_psnr']} ({r['renders']['best_random_mean_psnr']}) | {r['renders']['beat_best_random']}/{res['n']} | "
                     f"{r['renders']['out_of_range']}/{res['n']} | {m['smile']['r']} ({m['smile']['mae']}) | {m['mouth_open']['r']} | {m['eye_open']['r']} | "
                     f"{r['seconds']['cpu_mean']} ({r['seconds']['cpu_max']}) | {r['seconds']['wall_mean']} |")
    t, b = res['renders_meter']['target'], res['renders_meter']['best_random']
    lines += ['', f"Meter (ridge on HOG; R^2 on 200 held-out renders: {res['meter_r2']}) on the renders themselves: "
              + ', '.join(f"{k} r {t[k]['r']} (MAE {t[k]['mae']})" for k in EXPRESSIONS)
              + "; on the best random samples: " + ', '.join(f"{k} r {b[k]['r']}" for k in EXPRESSIONS)]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
