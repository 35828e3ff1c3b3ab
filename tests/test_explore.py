"Behaviour of wganface.explore: latent paths, truncation, every explorer's files read back, the report and the CLI."
import contextlib, io, math

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from wganface.cli import main
from wganface.data import sample_noise
from wganface.explore import (EXPLORE_COMMANDS, Written, breathe_loop, circle_loop, dim_report, explode, extremes,
                              face_batches, lerp, loop, parse_dims, parse_seeds, renormalise, report, slerp,
                              spline_loop, sweep, truncate, typical_norm, walk, walk_latents)
from wganface.models import face_critic, face_generator
from wganface.render import read_animation_info


def tiny_generator(nz=16, noise='normal'):
    torch.manual_seed(0)
    g = face_generator(64, nz=nz, n_features=8).eval()
    g.config = dict(size=64, nz=nz, noise=noise, epoch=0, steps=0, checkpoint=None)
    return g


@pytest.fixture(scope='module')
def gen(): return tiny_generator()


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A real run folder: one short epoch of a tiny model, so the checkpoint and critic paths are the real ones."
    from wganface.train import train
    out = tmp_path_factory.mktemp('explore') / 'run'
    with contextlib.redirect_stdout(io.StringIO()):
        train(out=out, epochs=1, steps_per_epoch=2, bs=4, n_features=8, progress=False)
    return out


def gif_frames(path):
    with Image.open(path) as im:
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert('RGB'), np.float32))
    return np.stack(frames)


def cli(*args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


# --- options ----------------------------------------------------------------

def test_parse_dims_forms_and_order():
    assert parse_dims('all', 5) == [0, 1, 2, 3, 4]
    assert parse_dims('0-199', 200) == list(range(200))
    assert parse_dims('0,5,17', 200) == [0, 5, 17]
    assert parse_dims('17,0-2,1', 200) == [17, 0, 1, 2]
    assert parse_dims(' ALL ', 3) == [0, 1, 2]
    assert parse_dims(np.int64(4), 5) == [4]


@pytest.mark.parametrize('dims,match', [('200', 'out of range'), ('0-200', 'dim 200 is out of range'), ('', 'no dims'),
                                        ([], 'no dims'), ('5-2', 'backwards'), ('a', 'cannot read'), ('1,,2', 'cannot read'),
                                        ('-1', 'cannot read'), ('0-99999999999', 'out of range')])
def test_parse_dims_errors(dims, match):
    with pytest.raises(ValueError, match=match): parse_dims(dims, 200)


def test_parse_seeds_keeps_repeats():
    assert parse_seeds('0,1,0') == [0, 1, 0]
    assert parse_seeds('3-5') == [3, 4, 5]
    assert parse_seeds(7) == [7]
    with pytest.raises(ValueError, match='no seeds'): parse_seeds('')


# --- truncation -------------------------------------------------------------

def test_truncation_moves_latents_toward_the_mean():
    z = sample_noise(64, 200, seed=0)
    for psi in (0.7, 0.3, 0.):
        assert torch.allclose(truncate(z, psi=psi), z * psi)
    zt = truncate(z, threshold=1.)
    assert (zt.abs() <= 1).all() and (zt.norm(dim=1) < z.norm(dim=1)).all()
    assert torch.equal(zt[z.abs() <= 1], z[z.abs() <= 1])
    assert torch.equal(truncate(z, threshold=1.), zt), 'resampling must be reproducible'
    u = sample_noise(64, 100, 'uniform', seed=0)
    assert (truncate(u, threshold=0.5, noise='uniform').abs() <= 0.5).all()
    assert torch.equal(truncate(u, threshold=2, noise='uniform'), u)


def test_truncated_explorers_use_faces_nearer_the_mean(gen, tmp_path):
    "psi < 1 makes the sweep's base face more like the mean face, in pixels."
    mean = next(face_batches(gen, torch.zeros(1, 16))).astype(float)
    far = next(face_batches(gen, truncate(sample_noise(1, 16, seed=0), 1.))).astype(float)
    near = next(face_batches(gen, truncate(sample_noise(1, 16, seed=0), 0.2))).astype(float)
    assert np.abs(near - mean).mean() < np.abs(far - mean).mean()
    a = sweep(gen, dims='0', n_values=2, lo=-0.001, hi=0.001, out=tmp_path / 'full.png', scale=1)
    b = sweep(gen, dims='0', n_values=2, lo=-0.001, hi=0.001, psi=0, seed=3, out=tmp_path / 'mean.png', scale=1)
    c = sweep(gen, dims='0', n_values=2, lo=-0.001, hi=0.001, seed=None, out=tmp_path / 'none.png', scale=1)
    assert np.array_equal(np.asarray(Image.open(b[0])), np.asarray(Image.open(c[0])))
    assert not np.array_equal(np.asarray(Image.open(a[0])), np.asarray(Image.open(c[0])))


def test_renormalise_to_the_typical_set():
    z = sample_noise(8, 200, seed=1) * 0.3
    assert torch.allclose(renormalise(z).norm(dim=1), torch.full((8,), math.sqrt(200)), atol=1e-3)
    keep = torch.arange(8)
    zk = renormalise(z, keep=keep)
    assert torch.equal(zk[keep, keep], z[keep, keep])
    assert torch.allclose(zk.norm(dim=1), torch.full((8,), math.sqrt(200)), atol=1e-3)
    assert math.isclose(typical_norm(300, 'uniform'), 10.)


# --- interpolation ----------------------------------------------------------

def test_slerp_endpoints_exact_and_norms_interpolated():
    a, b = sample_noise(2, 200, seed=5)
    b = b * 1.7
    t = torch.linspace(0, 1, 11)
    p = slerp(a, b, t)
    assert torch.equal(p[0], a) and torch.equal(p[-1], b)
    assert torch.allclose(p.norm(dim=1), (1 - t) * a.norm() + t * b.norm(), rtol=1e-5)
    q = slerp(a, a * 1.0, t)
    assert torch.allclose(q, a.expand_as(q), atol=1e-5)
    # the direction moves along the great circle: equal angle steps
    u = p / p.norm(dim=1, keepdim=True)
    angles = torch.arccos((u[1:] * u[:-1]).sum(1).clamp(-1, 1))
    assert torch.allclose(angles, angles.mean().expand_as(angles), atol=1e-4)


@pytest.mark.parametrize('b_of', [lambda a: a.clone(), lambda a: -a, lambda a: -a * 2, lambda a: a * 3,
                                  lambda a: torch.zeros_like(a), lambda a: a + 1e-9])
def test_slerp_degenerate_endpoints_no_nan(b_of):
    a = sample_noise(1, 200, seed=2)[0]
    b = b_of(a)
    p = slerp(a, b, torch.linspace(0, 1, 9))
    assert p.isfinite().all()
    assert torch.equal(p[0], a) and torch.equal(p[-1], b)
    steps = (p[1:] - p[:-1]).norm(dim=1)
    assert steps.max() <= 3.2 * max(a.norm(), b.norm()) / 8 + 1e-4, 'no jumps'


def test_slerp_batches_and_zero_vectors():
    a, b = sample_noise(2, 3, seed=0), sample_noise(2, 3, seed=1)
    assert slerp(a, b, torch.tensor([0.2, 0.8])).shape == (2, 3)
    assert slerp(torch.zeros(4), torch.zeros(4), torch.linspace(0, 1, 3)).eq(0).all()
    assert torch.equal(lerp(a[0], b[0], torch.tensor([0., 1.])), torch.stack([a[0], b[0]]))


def test_walk_latents_counts_and_endpoints():
    p = sample_noise(4, 16, seed=0)
    w = walk_latents(p, 5)
    assert w.shape == (16, 16) and torch.equal(w[::5], p)
    wc = walk_latents(p, 5, closed=True)
    assert wc.shape == (20, 16) and torch.equal(wc[::5], p)


# --- seamless loops ---------------------------------------------------------

def closing_step_ok(x):
    "The step from the last frame back to the first is a real step and no bigger than the usual steps."
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64).flatten(1)
    steps = (x.roll(-1, 0) - x).norm(dim=1)
    return 0 < steps[-1] <= 1.05 * steps[:-1].max() and steps[-1] <= 2 * steps[:-1].median()


@pytest.mark.parametrize('kind', ['circle', 'spline', 'breathe'])
def test_loops_are_seamless_in_latents_and_pixels(gen, kind):
    a, b, c, d = sample_noise(4, 16, seed=0)
    z = dict(circle=lambda: circle_loop(a, b, 48), spline=lambda: spline_loop(torch.stack([a, b, c, d]), 48),
             breathe=lambda: breathe_loop(a, 48, 0.5))[kind]()
    assert closing_step_ok(z)
    px = np.concatenate(list(face_batches(gen, z, bs=16))).astype(np.float64)
    assert closing_step_ok(px)


def test_closed_walk_is_seamless(gen):
    z = walk_latents(sample_noise(3, 16, seed=0), 16, easing='linear', closed=True)
    assert closing_step_ok(z)
    assert closing_step_ok(np.concatenate(list(face_batches(gen, z))).astype(np.float64))


def test_loop_file_is_seamless(gen, tmp_path):
    res = loop(gen, 'circle', n_frames=24, out=tmp_path / 'loop.gif', scale=1, labels=False)
    frames = gif_frames(res[0])
    assert len(frames) == 24
    steps = np.abs(np.roll(frames, -1, 0) - frames).mean((1, 2, 3))
    assert steps[-1] <= 1.05 * steps[:-1].max()


# --- explorers: files, counts, sizes ----------------------------------------

def test_sweep_gif_mp4_and_sheet(gen, tmp_path):
    res = sweep(gen, dims='0-2', n_values=5, out=tmp_path, scale=2)
    assert isinstance(res, Written) and [p.name for p in res] == ['sweep-dims0-2-lo-3-hi3-seed0-n5.gif', 'sweep-dims0-2-lo-3-hi3-seed0-n5.png']
    info = read_animation_info(res[0])
    assert (info['n_frames'], info['size']) == (15, (128, 128))
    assert Image.open(res[1]).size == (6 * 66 + 2, 4 * 66 + 2)
    mp4 = sweep(gen, dims='3,1', n_values=4, out=tmp_path / 'sweep.mp4', scale=3, sheet=False, fps=10)
    assert list(mp4) == [tmp_path / 'sweep.mp4']
    info = read_animation_info(mp4[0])
    assert (info['n_frames'], info['size'], round(info['fps'])) == (8, (192, 192), 10)
    png = sweep(gen, dims='3', n_values=4, out=tmp_path, ext='png', sheet_scale=2)
    assert [p.suffix for p in png] == ['.png'] and Image.open(png[0]).size == (5 * 130 + 2, 2 * 130 + 2)


def test_sweep_default_names_and_folder(run):
    res = sweep(run, dims='0,5', n_values=2, scale=1, psi=0.5, typical=True)
    assert res[0] == run / 'explore' / 'sweep-dims0_5-lo-3-hi3-seed0-n2-psi0.5-typical.gif'
    assert all(p.exists() for p in res)


def test_labels_sit_in_a_band_at_the_bottom(gen, tmp_path):
    "PNG is lossless, so labelled and plain frames differ exactly where the labels are."
    plain = walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'plain.png', labels=False)
    labelled = walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'labelled.png')
    a, b = (np.asarray(Image.open(p[0]), np.int16) for p in (plain, labelled))
    assert a.shape == (2 + 256 + 2, 2 * 258 + 2, 3)
    rows = np.flatnonzero(np.abs(a - b).sum((1, 2)))
    assert 258 - 40 < rows.min() and rows.max() < 258


def test_extremes_counts_and_modes(gen, tmp_path):
    res = extremes(gen, dims='0-3', out=tmp_path / 'e.gif', scale=1)
    assert read_animation_info(res[0])['n_frames'] == 5
    res = extremes(gen, dims='all', cumulative=False, start='hi', out=tmp_path, ext='mp4', scale=2)
    assert res[0].name == 'extremes-dims0-15-3-to-3-single.mp4'
    assert read_animation_info(res[0])['n_frames'] == 17
    with pytest.raises(ValueError, match="start must be"): extremes(gen, start='middle')


def test_walk_counts_and_latents_files(gen, tmp_path):
    res = walk(gen, seeds='0,1,2,0', n_frames=6, out=tmp_path, scale=1)
    assert res[0].name == 'walk-seeds0-2_0-slerp-smooth-n6.gif'
    assert read_animation_info(res[0])['n_frames'] == 19
    np.save(tmp_path / 'keys.npy', sample_noise(2, 16, seed=1).numpy())
    res = walk(gen, latents=str(tmp_path / 'keys.npy'), n_frames=4, closed=True, out=tmp_path / 'k.mp4', scale=1)
    assert read_animation_info(res[0])['n_frames'] == 8
    res = walk(gen, latents=sample_noise(3, 16), n_frames=2, out=tmp_path / 'strip.png', scale=1)
    assert Image.open(res[0]).size == (3 * 66 + 2, 2 * 66 + 2)
    with pytest.raises(ValueError, match=r'shaped \(K,16\)'): walk(gen, latents=sample_noise(3, 8), out=tmp_path / 'x.gif')
    with pytest.raises(ValueError, match='interp'): walk(gen, interp='cubic')


def test_explode_grid_and_animation(gen, tmp_path):
    res = explode(gen, n_faces=6, n_frames=4, out=tmp_path, scale=1)
    info = read_animation_info(res[0])
    assert (info['n_frames'], info['size']) == (13, (200, 134))
    grid = explode(gen, scales='1,2,4', n_faces=5, out=tmp_path / 'grid.png', scale=1)
    assert Image.open(grid[0]).size == (5 * 66 + 2, 4 * 66 + 2)


def test_explorers_are_deterministic(gen, tmp_path):
    a = walk(gen, seeds='4,5', n_frames=3, out=tmp_path / 'a.gif', scale=1)
    b = walk(gen, seeds='4,5', n_frames=3, out=tmp_path / 'b.gif', scale=1)
    assert a[0].read_bytes() == b[0].read_bytes()
    c = walk(gen, seeds='4,6', n_frames=3, out=tmp_path / 'c.gif', scale=1)
    assert a[0].read_bytes() != c[0].read_bytes()
    d = loop(gen, 'breathe', n_frames=4, seed=2, threshold=0.5, out=tmp_path / 'd.gif', scale=1)
    e = loop(gen, 'breathe', n_frames=4, seed=2, threshold=0.5, out=tmp_path / 'e.gif', scale=1)
    assert d[0].read_bytes() == e[0].read_bytes()


def test_batches_stream(gen):
    "Faces come batch by batch: nothing is generated before it is asked for."
    calls = []
    hook = gen.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    try:
        it = face_batches(gen, sample_noise(100, 16), bs=32)
        assert calls == []
        next(it)
        assert calls == [32]
        list(it)
        assert calls == [32, 32, 32, 4]
    finally: hook.remove()


def test_output_errors(gen, tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(ValueError, match="cannot write '.avi'"): sweep(gen, out=tmp_path / 'x.avi')
    with pytest.raises(NotADirectoryError, match='is a file'): walk(gen, out=tmp_path / 'file' / 'w.gif')
    walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'w.gif', scale=1)
    with pytest.raises(FileExistsError, match='already exists'): walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'w.gif')
    walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'w.gif', scale=1, overwrite=True)
    with pytest.raises(ValueError, match='n_frames must be at least 1'): loop(gen, n_frames=0)
    with pytest.raises(ValueError, match='fps'): walk(gen, fps=0)
    with pytest.raises(ValueError, match='config'): sweep(face_generator(64, nz=16, n_features=8))


def test_written_displays_in_jupyter(gen, tmp_path, capsys):
    res = walk(gen, seeds='0,1', n_frames=2, out=tmp_path / 'w.gif', scale=1)
    res._ipython_display_()
    assert str(res[0]) in capsys.readouterr().out


# --- report -----------------------------------------------------------------

def test_dim_report_ranks_dims(gen):
    table, heat, faces = dim_report(gen, face_critic(64, n_features=8), dims='0-9', n_samples=3, bs=8)
    assert table.shape == (10, 7) and sorted(table.dim) == list(range(10))
    assert table['rank'].tolist() == list(range(1, 11))
    assert (np.diff(table.pixel_change) <= 0).all()
    assert np.allclose(heat.mean((1, 2)), table.pixel_change)
    assert heat.shape == (10, 64, 64) and faces.shape == (10, 2, 64, 64, 3)
    assert table.still_face.between(0, 1).all()
    no_critic, _, _ = dim_report(gen, None, dims='0-9', n_samples=3)
    assert no_critic.critic_change.isna().all()
    assert no_critic.dim.tolist() == table.dim.tolist()


def test_dim_report_finds_the_dim_that_matters():
    "A generator that ignores all but one dim: that dim ranks first and the others change nothing."
    g = tiny_generator(nz=8)
    with torch.no_grad(): g[1][0].weight[1:] = 0
    table, heat, _ = dim_report(g, dims='all', n_samples=2)
    assert table.dim[0] == 0 and table.pixel_change[0] > 0
    assert np.allclose(table.pixel_change[1:], 0) and np.allclose(heat[1:], 0)


def test_report_files(run, tmp_path, capsys):
    res = report(run, dims='0-11', n_samples=2, top=4, out=tmp_path / 'r.png')
    assert [p.name for p in res] == ['r.csv', 'r.png']
    table = pd.read_csv(res[0])
    assert table.shape == (12, 7) and table.critic_lo.notna().all()
    assert Image.open(res[1]).size[0] > 600
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 5 and printed[0].split()[:3] == ['rank', 'dim', 'pixel_change']


# --- command line -----------------------------------------------------------

def test_explore_commands_cover_the_issue():
    assert list(EXPLORE_COMMANDS) == ['sweep', 'extremes', 'walk', 'loop', 'explode', 'report']


def test_cli_sweep_and_walk_end_to_end(run, tmp_path):
    code, text = cli('explore', 'sweep', run, '--dims', '0,5', '--n-values', '3', '--lo', '-2', '--hi', '2',
                     '--out', tmp_path, '--scale', '1', '--ext', 'mp4')
    assert code == 0, text
    gif = tmp_path / 'sweep-dims0_5-lo-2-hi2-seed0-n3.mp4'
    assert f'Wrote {gif}' in text and read_animation_info(gif)['n_frames'] == 6
    assert (tmp_path / 'sweep-dims0_5-lo-2-hi2-seed0-n3.png').exists()
    ckpt = sorted((run / 'checkpoints').glob('*.pt'))[-1]
    code, text = cli('explore', 'walk', ckpt, '--seeds', '1,2,3', '--n-frames', '4', '--interp', 'lerp', '--closed',
                     '--out', tmp_path / 'walk.gif', '--scale', '1', '--no-labels')
    assert code == 0, text
    assert read_animation_info(tmp_path / 'walk.gif')['n_frames'] == 12


@pytest.mark.parametrize('args,match', [
    (['sweep', '{run}', '--dims', '0-200'], 'out of range'),
    (['sweep', '{run}', '--dims', ''], 'no dims'),
    (['sweep', '{run}', '--lo', '2', '--hi', '1'], 'lo must be below hi'),
    (['walk', '{run}', '--n-frames', '0'], 'n_frames must be at least 1'),
    (['loop', '{run}', '--out', '{tmp}/x.webm'], "cannot write '.webm'"),
    (['walk', '{tmp}', '--seeds', '1,2'], 'No checkpoint'),
    (['walk', '{tmp}/nowhere'], 'does not exist'),
    (['walk', '{run}', '--out', '{tmp}/file/w.gif'], 'is a file'),
])
def test_cli_user_errors_exit_2(run, tmp_path, args, match):
    (tmp_path / 'file').write_text('x')
    code, text = cli('explore', *[a.format(run=run, tmp=tmp_path) for a in args])
    assert code == 2 and match in text and 'Traceback' not in text
    assert len(text.strip().splitlines()) == 1


def test_cli_run_is_required(capsys):
    from wganface.cli import main
    with pytest.raises(SystemExit) as e: main(['explore', 'sweep'])
    assert e.value.code == 2 and 'required: RUN' in capsys.readouterr().err


def test_cli_refuses_to_overwrite(run, tmp_path):
    args = ('explore', 'explode', run, '--n-faces', '2', '--out', tmp_path / 'e.png', '--scale', '1')
    assert cli(*args)[0] == 0
    code, text = cli(*args)
    assert code == 2 and 'already exists' in text
    assert cli(*args, '--overwrite')[0] == 0


def test_cli_help_lists_every_explorer():
    for name in EXPLORE_COMMANDS:
        with pytest.raises(SystemExit) as e, contextlib.redirect_stdout(io.StringIO()) as out: main(['explore', name, '--help'])
        assert e.value.code == 0 and 'RUN' in out.getvalue() and '--overwrite' in out.getvalue()
