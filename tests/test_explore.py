"Behaviour of wganface.explore: the latent paths it walks, truncation, every explorer's files read back, and `wganface explore`."
import math

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import cli, quiet_train, tiny_run
from wganface.explore import explode, extremes, loop, sweep, walk
from wganface.latents import (breathe_loop, circle_loop, lerp, parse_dims, parse_seeds, renormalise, sample_noise, slerp,
                              spline_loop, truncate, typical_norm, walk_latents)
from wganface.models import face_batches, face_generator
from wganface.outputs import Written
from wganface.render import read_animation_info

EXPLORERS = ['sweep', 'extremes', 'walk', 'loop', 'explode', 'report']


@pytest.fixture(scope='module')
def gen(): return tiny_run()


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A real run folder: one short epoch of a tiny model (16x16 faces, 8 latent dims), so the checkpoint and critic paths are the real ones."
    out = tmp_path_factory.mktemp('explore') / 'run'
    quiet_train(out=out, epochs=1)
    return out


def gif_frames(path):
    with Image.open(path) as im:
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert('RGB'), np.float32))
    return np.stack(frames)


# --- options ----------------------------------------------------------------


# --- truncation -------------------------------------------------------------


def test_truncated_explorers_use_faces_nearer_the_mean(gen, tmp_path):
    "psi < 1 makes the sweep's base face more like the mean face, in pixels."
    mean = next(face_batches(gen.generator, torch.zeros(1, 16))).astype(float)
    far = next(face_batches(gen.generator, truncate(sample_noise(1, 16, seed=0), 1.))).astype(float)
    near = next(face_batches(gen.generator, truncate(sample_noise(1, 16, seed=0), 0.2))).astype(float)
    assert np.abs(near - mean).mean() < np.abs(far - mean).mean()
    a = sweep(gen, dims='0', n_values=2, lo=-0.001, hi=0.001, out=tmp_path / 'full.png', scale=1)
    b = sweep(gen, dims='0', n_values=2, lo=-0.001, hi=0.001, psi=0, seed=3, out=tmp_path / 'mean.png', scale=1)
    c = sweep(gen, dims='0', n_values=2, lo=-0.001, hi=0.001, seed=None, out=tmp_path / 'none.png', scale=1)
    assert np.array_equal(np.asarray(Image.open(b[0])), np.asarray(Image.open(c[0])))
    assert not np.array_equal(np.asarray(Image.open(a[0])), np.asarray(Image.open(c[0])))


# --- interpolation ----------------------------------------------------------


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
    px = np.concatenate(list(face_batches(gen.generator, z, bs=16))).astype(np.float64)
    assert closing_step_ok(px)


def test_closed_walk_is_seamless(gen):
    z = walk_latents(sample_noise(3, 16, seed=0), 16, easing='linear', closed=True)
    assert closing_step_ok(z)
    assert closing_step_ok(np.concatenate(list(face_batches(gen.generator, z))).astype(np.float64))


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
    with pytest.raises(ValueError, match="start='middle' is not supported"): extremes(gen, start='middle')


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


def test_output_errors(gen, tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(ValueError, match="cannot write '.avi'"): sweep(gen, out=tmp_path / 'x.avi')
    with pytest.raises(NotADirectoryError, match='is a file'): walk(gen, out=tmp_path / 'file' / 'w.gif')
    walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'w.gif', scale=1)
    with pytest.raises(FileExistsError, match='already exists'): walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'w.gif')
    walk(gen, seeds='0,1', n_frames=1, out=tmp_path / 'w.gif', scale=1, overwrite=True)
    with pytest.raises(ValueError, match='n_frames=0 is not supported: use at least 1'): loop(gen, n_frames=0)
    with pytest.raises(ValueError, match='fps'): walk(gen, fps=0)
    with pytest.raises(ValueError, match='give a run folder or a checkpoint file first'): sweep(None)
    with pytest.raises(ValueError, match='give a run folder or a checkpoint file first'): sweep({'nz': 16})


def test_a_bare_generator_is_explored_with_its_own_dims(tmp_path):
    "No run folder and no options: nz comes from the generator's first layer, the noise is normal"
    res = sweep(face_generator(32, nz=12, n_features=8), dims='all', n_values=2, out=tmp_path, ext='png', scale=1)
    assert res[0].name == 'sweep-dims0-11-lo-3-hi3-seed0-n2.png'
    assert Image.open(res[0]).size == (3 * 34 + 2, 13 * 34 + 2)


# --- command line -----------------------------------------------------------

def test_explore_commands_cover_the_issue():
    from wganface.cli import COMMANDS
    assert list(COMMANDS['explore']) == EXPLORERS


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
    (['walk', '{run}', '--n-frames', '0'], 'n_frames=0 is not supported'),
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


def test_cli_help_lists_every_explorer(capsys):
    from wganface.cli import main
    for name in EXPLORERS:
        with pytest.raises(SystemExit) as e: main(['explore', name, '--help'])
        out = capsys.readouterr().out
        assert e.value.code == 0 and 'RUN' in out and '--overwrite' in out, name
