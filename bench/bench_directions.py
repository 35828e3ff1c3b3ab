"""Benchmark attribute directions: does each move its own attribute, more than a random direction does, and leave the others alone?

    python bench/bench_directions.py --runs /work/runs/demo /work/runs/demo50     # the table of the README (~15 min on one core)
    python bench/bench_directions.py --smoke                                        # the 0.1.0 fixture, tiny sizes: checks that it all runs (~2 min)
    python bench/bench_directions.py --runs RUN --strip smile                       # also the README's image strip
    python bench/bench_directions.py --runs RUN --oracle                             # perfect labels: how far can a linear direction go?
    python bench/bench_directions.py --conditional /work/runs/cond                  # a run trained with --condition labels.csv

Every invocation first prints the floor of the side-effect figure: what the meter reads on renders in which one
attribute changes and nothing else (a perfect edit still shows 0.05-0.13: the meter is not perfect either).

The **meter** is not the thing being tested: one ridge regression per attribute (HOG, coarse HOG and pixels at 16x16
and 32x32) fitted on 3,000 faces drawn by the library's renderer with known values (seeds 100 and 101, half with
independent uniform values, half the built-in set's six expressions; the training set is seed 0), checked on 1,000
fresh renders (seeds 200, 201) first. The scorer that pseudo-labels is fitted on the 42 (or 20) labelled training
images only.

For each run and label count, three ways to fit a direction per attribute:
- `pseudo`: a scorer fitted on the labelled images labels 2,000 generated faces; ridge regression in the whole latent space;
- `marked`: N generated faces marked by a simulated user (a second, pixel-only ridge fitted on 1,500 other renders,
  seed 300), as `seed,attr` labels would be; ridge regression on their latents in the whole latent space;
- `marked-sefa10`: the same marks, fitted in the span of the top 10 SeFa directions;
- `marked-pseudo`: the same marks train the scorer (on the marked generated faces), which labels 2,000 more.
Each direction is measured as fitted and made orthogonal to the other attributes (`--orthogonal-to others`): over 32
faces (seed 777) moved by -3..3, the mean Spearman correlation between the step and the meter's reading of its own
attribute (target >= 0.8 and above the 95th percentile of |that figure| over 100 random directions), and the mean
|correlation| with every other attribute (target <= 0.3 after making it orthogonal, and lower than before). A rank
correlation says whether a reading follows the steps, not by how much: the meter reads brightness so exactly that a
change too small to see still gives 1. The slopes say how much: the mean change of the reading per unit step, in
standard deviations of that reading over the 32 unedited faces.

`--conditional RUN` measures a run trained with `--condition data/faces/labels.csv` instead (no directions: the
generator is asked for each attribute value directly, `sample(attrs=...)`): the same 32 faces (seed 777), each asked for
7 values of one attribute evenly from its smallest to its largest training label, the other attributes as on the
training face each one's noise picks (what the run does without --attrs); the same figures, the steps being the asked values in standard deviations of the training labels.

The meter (and the 100 random directions of each run) are kept in bench/out/directions/ for later invocations.
"""
import argparse, json, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from wganface.attributes import FEATURES, STEPS, Ridge, attribute_directions, edit_effects, edit_readings, fit_direction, fit_ridge, side_effects
from wganface.directions import Directions, disentangle, generator_fingerprint
from wganface.labels import Labels, read_labels_file
from wganface.faces import FACE_PARAMS, FACE_RANGES, builtin_faces_path, render_face, sample_face_params
from wganface.latents import seed_latents
from wganface.metrics import pixel_features
from wganface.models import sample_faces
from wganface.render import image_grid, label_frame, save_png, to_uint8, upscale
from wganface.runs import as_run
from wganface.steering import unsupervised_directions

OUT = Path(__file__).parent/'out'/'directions'
RIDGE_FIELDS = ('mean', 'scale', 'coef', 'intercept', 'alpha', 'loo')


def renders(params, size):
    faces = torch.from_numpy(np.stack([np.asarray(render_face(**p, size=64)) for p in params])).permute(0, 3, 1, 2).float() / 127.5 - 1
    return faces if size == 64 else F.interpolate(faces, size=(size, size), mode='area')


class Meter:
    "Linear readers of every attribute, fitted on renders with known values: `meter(faces) -> (N, 8)`"
    names = list(FACE_PARAMS)
    def __init__(self, kinds, model): self.kinds, self.model = kinds, model
    def features(self, x):
        parts = [FEATURES[k](x) if k in FEATURES else pixel_features(F.adaptive_avg_pool2d(x, 32)) for k in self.kinds]
        return torch.cat(parts, 1).numpy()
    def __call__(self, faces, bs=512):
        return np.concatenate([self.model.predict(self.features(b.float())) for b in torch.as_tensor(faces).split(bs)])


def fit_meter(kinds, params, size):
    y = np.array([[p[k] for k in FACE_PARAMS] for p in params])
    m = Meter(kinds, None)
    m.model = fit_ridge(m.features(renders(params, size)), y)
    return m


def r2(meter, params, size):
    y = np.array([[p[k] for k in FACE_PARAMS] for p in params])
    p = meter(renders(params, size))
    return 1 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)


METER_KINDS, MARKER_KINDS = ('hog', 'coarse_hog', 'pixels', 'pixels32'), ('pixels32',)

def _fit_meters(size, n):
    "(meter, marker, {row name: R^2 per attribute on fresh renders}), fitted from renders"
    # half with every value independent, so the meter cannot read one attribute off another
    meter = fit_meter(METER_KINDS, sample_face_params(n // 2, 100, independent=True) + sample_face_params(n // 2, 101), size)
    marker = fit_meter(MARKER_KINDS, sample_face_params(n // 2, 300, independent=True), size)
    fresh = dict(independent=sample_face_params(n // 6, 200, independent=True), expressions=sample_face_params(n // 6, 201))
    return meter, marker, {f'{who}, {what}': r2(m, ps, size) for who, m in (('meter', meter), ('marker', marker)) for what, ps in fresh.items()}

def meters(size, n):
    "(meter, simulated marker), fitted once and kept in bench/out/directions/, their R^2 on fresh renders printed"
    cache = OUT/f'meters-size{size}-n{n}.npz'
    t, kept = time.perf_counter(), cache.is_file()
    if kept:
        with np.load(cache) as f: d = {k: f[k] for k in f.files}
        models = [Ridge(*(d[f'{who}_{k}'] for k in RIDGE_FIELDS)) for who in ('meter', 'marker')]
        meter, marker = Meter(METER_KINDS, models[0]), Meter(MARKER_KINDS, models[1])
        scores = dict(zip(d['r2_names'].tolist(), d['r2_values']))
    else:
        meter, marker, scores = _fit_meters(size, n)
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **{f'{who}_{k}': getattr(m.model, k) for who, m in (('meter', meter), ('marker', marker)) for k in RIDGE_FIELDS},
                 r2_names=np.array(list(scores)), r2_values=np.stack(list(scores.values())))
    print(f"Meter: ridge on HOG + coarse HOG + pixels, {n} renders at {size}x{size} (seeds 100, 101); marker: pixels only, "
          f"{n // 2} renders (seed 300); {time.perf_counter() - t:.0f} s{' (kept from an earlier run)' if kept else ''}. "
          f"R^2 on {n // 6} fresh renders each (seeds 200, 201):")
    print(f"{'':<24}" + ''.join(f'{a:>11}' for a in FACE_PARAMS))
    for k, v in scores.items(): print(f"{k:<24}" + ''.join(f'{x:>11.3f}' for x in v))
    return meter, marker


def perfect_edits(meter, size, n_faces=32, share=0.3):
    "The side effects the meter itself shows for perfect edits: renders with one attribute stepped and every other value kept"
    base = sample_face_params(n_faces, 777)
    readings = []
    for a in FACE_PARAMS:
        lo, hi = FACE_RANGES[a]
        step = (hi - lo) / 2 * share / max(STEPS)  # -3..3 steps cover `share` of the attribute's range
        readings.append(np.stack([meter(renders([{**p, a: float(np.clip(p[a] + t * step, lo, hi))} for p in base], size))
                                  for t in STEPS], 1))
    fx = edit_effects(np.stack(readings), STEPS, 'rank')
    others = np.array([np.abs(np.delete(fx[i], i)).mean() for i in range(len(FACE_PARAMS))])
    print(f"Perfect edits (renders of {n_faces} built-in expressions, seed 777, one attribute stepped -3..3 over {share:.0%} of its "
          "range, nothing else changed), the meter's mean |rank| for the other attributes, the floor of 'others': " +
          ', '.join(f'{a} {v:.2f}' for a, v in zip(FACE_PARAMS, others)) + f"; mean {others.mean():.2f}")
    return others


def measure(r, dirs, meter, n_faces):
    "{'own', 'others', 'own_slope', 'others_slope'}: per direction, its own attribute's figure and the mean |figure| of the others"
    readings = edit_readings(r, dirs, meter, n_faces=n_faces, steps=STEPS, seed=777)
    out = {}
    for measure, tag in (('rank', ''), ('slope', '_slope')):
        fx = edit_effects(readings, STEPS, measure)
        mine = [FACE_PARAMS.index(n) for n in dirs.names]
        out['own' + tag] = fx[np.arange(len(mine)), mine]
        out['others' + tag] = np.array([np.abs(np.delete(fx[i], j)).mean() for i, j in enumerate(mine)])
    return out


def orthogonal(dirs):
    "Each direction made orthogonal to the other attributes, or None where it lies almost entirely along them"
    out = []
    for n in dirs.names:
        try: out.append(disentangle(dirs, [n]))
        except ValueError: out.append(None)
    return out


def measure_orthogonal(r, dirs, meter, n_faces):
    "`measure` of the orthogonal directions, NaN where there is none"
    orth = orthogonal(dirs)
    good = [d for d in orth if d is not None]
    m = measure(r, _joined(good), meter, n_faces) if good else {}
    full = {k: np.full(len(dirs), np.nan) for k in ('own', 'others', 'own_slope', 'others_slope')}
    idx = [i for i, d in enumerate(orth) if d is not None]
    for k in full: full[k][idx] = m.get(k, [])
    return full


def _joined(parts):
    names = [n for d in parts for n in d.names]
    return Directions(names, torch.cat([d.vectors for d in parts]))


def random_p95(r, meter, n_random, n_faces):
    "Per attribute: the 95th percentile of |mean Spearman with the step| over random unit directions (kept per generator)"
    cache = OUT/f'random-{generator_fingerprint(r.generator)}-n{n_random}-faces{n_faces}.npy'
    if cache.is_file(): return np.load(cache)
    v = F.normalize(torch.randn(n_random, r.nz, generator=torch.Generator().manual_seed(1)), dim=1)
    fx = side_effects(r, Directions([f'random:{i}' for i in range(n_random)], v), meter, n_faces=n_faces, steps=STEPS, seed=777)
    p95 = np.percentile(np.abs(fx.to_numpy()), 95, axis=0)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(cache, p95)
    return p95


def marked_labels(r, marker, n):
    "n generated faces marked by the simulated user, as a `seed,attr...` labels file would give them"
    seeds = list(range(5000, 5000 + n))
    values = marker(sample_faces(r.generator, z=seed_latents(seeds, r.nz, r.noise)))
    return Labels(list(FACE_PARAMS), values, seeds=seeds, source='marked samples')


def fit_config(r, config, labels, marker, n_labels, n_samples):
    "(directions, table) of one way of fitting"
    if config == 'pseudo': return attribute_directions(r, labels.subset(np.arange(n_labels)), route='pseudo', n_samples=n_samples)[:2]
    marks = marked_labels(r, marker, n_labels)
    if config == 'marked-pseudo': return attribute_directions(r, marks, route='pseudo', n_samples=n_samples)[:2]
    return attribute_directions(r, marks, route='latents', subspace=10 if config == 'marked-sefa10' else 0)[:2]


def bench_run(run, meter, marker, args):
    r = as_run(run, device='cpu')
    t = time.perf_counter()
    p95 = random_p95(r, meter, args.random, args.faces)
    print(f"\n== {run}: {r.steps} steps, nz={r.nz}. 95th percentile of |own-attribute correlation| over {args.random} random "
          f"directions ({time.perf_counter() - t:.0f} s): " + ', '.join(f'{a} {v:.2f}' for a, v in zip(FACE_PARAMS, p95)))
    sefa = unsupervised_directions(r, 'sefa', 10)
    fx = side_effects(r, sefa, meter, n_faces=args.faces, steps=STEPS, seed=777)
    print("SeFa directions, the attribute each moves most (mean Spearman): " +
          ', '.join(f"{n} {fx.loc[n].abs().idxmax()} {fx.loc[n, fx.loc[n].abs().idxmax()]:+.2f}" for n in sefa.names))
    labels = read_labels_file(builtin_faces_path()/'labels.csv')
    results = []
    for n_labels in args.labels:
        for config in args.configs:
            t = time.perf_counter()
            dirs, table = fit_config(r, config, labels, marker, n_labels, args.samples)
            m0, m1 = measure(r, dirs, meter, args.faces), measure_orthogonal(r, dirs, meter, args.faces)
            for i, a in enumerate(dirs.names):
                results.append(dict(run=str(run), labels=n_labels, config=config, attribute=a, own=m0['own'][i], own_orth=m1['own'][i],
                                    random_p95=p95[FACE_PARAMS.index(a)], others=m0['others'][i], others_orth=m1['others'][i],
                                    own_slope=m0['own_slope'][i], own_slope_orth=m1['own_slope'][i],
                                    others_slope=m0['others_slope'][i], others_slope_orth=m1['others_slope'][i],
                                    heldout_rho=table.heldout_rho[i], chance_p95=table.chance_p95[i], scorer_rho=table.scorer_rho[i]))
            print_rows(results[-len(dirs.names):], f"{n_labels} labels, {config} ({time.perf_counter() - t:.0f} s)")
    return results


def print_rows(rows, title):
    "One line per attribute: held-out separation, then rank figures (the targets) and slopes, as fitted and orthogonal to the others"
    print(f"\n{title}")
    print(f"{'':<12}{'held-out':>9}{'chance':>7} | {'own rank':>17}{'random':>7}{'others rank':>17} | {'own slope':>15}{'others slope':>15} | targets")
    print(f"{'attribute':<12}{'rho':>9}{'p95':>7} | {'fitted':>9}{'orth':>8}{'p95':>7}{'fitted':>9}{'orth':>8} | {'fitted':>8}{'orth':>7}{'fitted':>8}{'orth':>7} | met")
    for x in rows:
        own_ok = x['own_orth'] >= 0.8 and x['own_orth'] > x['random_p95']
        oth_ok = x['others_orth'] <= 0.3 and x['others_orth'] < x['others']
        print(f"{x['attribute']:<12}{x['heldout_rho']:>9.2f}{x['chance_p95']:>7.2f} | {x['own']:>9.2f}{x['own_orth']:>8.2f}{x['random_p95']:>7.2f}"
              f"{x['others']:>9.2f}{x['others_orth']:>8.2f} | {x['own_slope']:>8.2f}{x['own_slope_orth']:>7.2f}{x['others_slope']:>8.2f}"
              f"{x['others_slope_orth']:>7.2f} | {'own' if own_ok else '   '} {'others' if oth_ok else ''}")
    met = sum(x['own_orth'] >= 0.8 and x['own_orth'] > x['random_p95'] and x['others_orth'] <= 0.3 and x['others_orth'] < x['others'] for x in rows)
    mean = lambda k: np.nanmean([x[k] for x in rows])
    print(f"all targets met by {met} of {len(rows)} attributes; mean own rank {mean('own_orth'):.2f} orthogonal ({mean('own'):.2f} as fitted), "
          f"mean others rank {mean('others_orth'):.2f} ({mean('others'):.2f}); own slope {mean('own_slope_orth'):.2f} ({mean('own_slope'):.2f}) "
          f"and others {mean('others_slope_orth'):.2f} ({mean('others_slope'):.2f}) standard deviations per unit")


def image_strip(run, meter, attr, out, n_samples, seeds=(0, 1, 2), amounts=(-2, -1, 0, 1, 2)):
    "Faces (rows: seeds) edited along `attr` (fitted from the 42 labels, made orthogonal to the others), labelled with the meter's reading"
    from wganface.steering import edit
    r = as_run(run, device='cpu')
    dirs = attribute_directions(r, read_labels_file(builtin_faces_path()/'labels.csv'), n_samples=n_samples)[0]
    faces = torch.cat([edit(r, list(seeds), {attr: a}, dirs, orthogonal_to='others') for a in amounts])  # amount-major
    readings = meter(faces)[:, FACE_PARAMS.index(attr)]
    order = [a * len(seeds) + s for s in range(len(seeds)) for a in range(len(amounts))]  # seed-major, as the grid's rows
    # each tile: the step taken (columns) and what the meter reads off the edited face
    tiles = [label_frame(f, f'{amounts[i // len(seeds)]:+g}: {readings[i]:+.2f}') for i, f in zip(order, upscale(to_uint8(faces[order]), 2))]
    return save_png(image_grid(np.stack(tiles), ncol=len(amounts)), out, overwrite=True)


def oracle(run, meter, n=2000, seed=5, faces=32):
    "The best a linear direction can do: fitted on `n` generated faces read by the meter itself; own-attribute rank per attribute"
    r = as_run(run, device='cpu')
    z = seed_latents(list(range(seed * 10**6, seed * 10**6 + n)), r.nz, r.noise)
    y = meter(sample_faces(r.generator, z=z))
    d = Directions(Meter.names, torch.stack([fit_direction(z, y[:, j], None) for j in range(y.shape[1])]),
                   {'about': {a: {'kind': 'attribute'} for a in Meter.names}})
    for how, dirs in (('as fitted', d), ('orthogonal', _joined([x for x in orthogonal(d) if x is not None]))):
        m = measure(r, dirs, meter, faces)
        print(f"{run}: directions fitted on {n} generated faces read by the meter (an oracle scorer), {how}, own-attribute rank / "
              "others: " + ', '.join(f'{a} {o:+.2f}/{x:.2f}' for a, o, x in zip(dirs.names, m['own'], m['others'])) +
              f"; mean {m['own'].mean():.2f}/{m['others'].mean():.2f}")


def asked_values(attr, n):
    "`n` values of `attr` evenly from its smallest to its largest label in the built-in labels.csv"
    labels = read_labels_file(builtin_faces_path()/'labels.csv')
    v = labels.values[:, labels.names.index(attr)]
    return np.linspace(v.min(), v.max(), n)


def bench_conditional(run, meter, args):
    "The direction table's figures for a conditional run: each attribute asked for directly, across its training range"
    r = as_run(run, device='cpu')
    g = r.generator
    if not getattr(g, 'names', None): raise SystemExit(f"{run} was trained without --condition: it takes no attribute values")
    p95 = random_p95(r, meter, args.random, args.faces)
    z = seed_latents(list(range(777 * 1000, 777 * 1000 + args.faces)), r.nz, r.noise)
    rows = []
    for a in g.names:
        asked = asked_values(a, len(STEPS))
        steps = (asked - float(g.mean[g.names.index(a)])) / float(g.std[g.names.index(a)])
        faces = torch.stack([sample_faces(g, z=z, attrs={a: float(x)}) for x in asked], 1)  # (faces, steps, 3, H, W)
        readings = meter(faces.flatten(0, 1)).reshape(args.faces, len(STEPS), -1)[None]
        j = FACE_PARAMS.index(a)
        fx = {m: edit_effects(readings, steps, m)[0] for m in ('rank', 'slope')}
        rows.append(dict(run=str(run), config='conditional', attribute=a, own=fx['rank'][j], random_p95=p95[j],
                         others=np.abs(np.delete(fx['rank'], j)).mean(), own_slope=fx['slope'][j],
                         others_slope=np.abs(np.delete(fx['slope'], j)).mean(), range=(float(asked[0]), float(asked[-1]))))
    print(f"\n== {run}: conditional ({r.steps} steps), each attribute asked from its smallest to its largest training label")
    print(f"{'attribute':<12}{'range':>16} | {'own rank':>9}{'random p95':>11}{'others rank':>12} | {'own slope':>10}{'others slope':>13} | targets met")
    for x in rows:
        own_ok, oth_ok = x['own'] >= 0.8 and x['own'] > x['random_p95'], x['others'] <= 0.3
        print(f"{x['attribute']:<12}{x['range'][0]:>8.2f}..{x['range'][1]:<6.2f} | {x['own']:>9.2f}{x['random_p95']:>11.2f}{x['others']:>12.2f} | "
              f"{x['own_slope']:>10.2f}{x['others_slope']:>13.2f} | {'own' if own_ok else '   '} {'others' if oth_ok else ''}")
    met = sum(x['own'] >= 0.8 and x['own'] > x['random_p95'] and x['others'] <= 0.3 for x in rows)
    print(f"all targets met by {met} of {len(rows)} attributes; mean own rank {np.mean([x['own'] for x in rows]):.2f}, "
          f"mean others rank {np.mean([x['others'] for x in rows]):.2f}")
    return rows


def conditional_strip(run, meter, attr, out, seeds=(0, 1, 2), n=5):
    "Faces (rows: seeds) of a conditional run asked for `n` values of `attr` across its training range, labelled with the meter's reading"
    r = as_run(run, device='cpu')
    asked = asked_values(attr, n)
    z = seed_latents(list(seeds), r.nz, r.noise)
    faces = torch.cat([sample_faces(r.generator, z=z[i:i + 1], attrs={attr: float(x)}) for i in range(len(seeds)) for x in asked])
    readings = meter(faces)[:, FACE_PARAMS.index(attr)]
    tiles = [label_frame(f, f'{asked[i % n]:.2f}: {readings[i]:+.2f}') for i, f in enumerate(upscale(to_uint8(faces), 2))]
    return save_png(image_grid(np.stack(tiles), ncol=n), out, overwrite=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runs', nargs='+', default=['/work/runs/demo', '/work/runs/demo50'])
    ap.add_argument('--labels', nargs='+', type=int, default=[42, 20], help='label counts to fit with')
    ap.add_argument('--configs', nargs='+', default=['pseudo', 'marked', 'marked-sefa10', 'marked-pseudo'])
    ap.add_argument('--faces', type=int, default=32, help='faces each direction is measured on')
    ap.add_argument('--random', type=int, default=100, help='random directions for the chance level')
    ap.add_argument('--samples', type=int, default=2000, help='generated faces the scorer labels')
    ap.add_argument('--meter-renders', type=int, default=3000)
    ap.add_argument('--strip', default=None, help='also write the README strip for this attribute (from the last run)')
    ap.add_argument('--oracle', action='store_true', help='only the oracle check: how well a linear direction can do with perfect labels')
    ap.add_argument('--conditional', nargs='+', default=None, help='instead: measure conditional runs (trained with --condition labels.csv)')
    ap.add_argument('--smoke', action='store_true', help='the 0.1.0 fixture and tiny sizes: checks that everything runs')
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.smoke:
        args.runs, args.labels, args.faces, args.random, args.samples, args.meter_renders = (
            [str(Path(__file__).parent.parent/'tests'/'fixtures'/'ckpt-v0.1.0-size16-nz8.pt')], [20], 4, 10, 200, 300)
    size = as_run((args.conditional or args.runs)[0], device='cpu').size
    meter, marker = meters(size, args.meter_renders)
    perfect_edits(meter, size, min(args.faces, 32))
    if args.oracle:
        for run in args.runs: oracle(run, meter)
        return
    if args.conditional:
        rows = [row for run in args.conditional for row in bench_conditional(run, meter, args)]
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT/'conditional.json').write_text(json.dumps(rows, indent=1, default=float))
        if args.strip: print(f"\nWrote {conditional_strip(args.conditional[-1], meter, args.strip, OUT/f'conditional-{args.strip}.png')}")
        return
    results = [row for run in args.runs for row in bench_run(run, meter, marker, args)]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/'results.json').write_text(json.dumps(results, indent=1, default=float))
    if args.strip:
        print(f"\nWrote {image_strip(args.runs[-1], meter, args.strip, OUT/f'strip-{args.strip}.png', args.samples)}")


if __name__ == '__main__':
    main()
