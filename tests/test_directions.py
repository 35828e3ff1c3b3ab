"Directions end to end: `wganface directions` and `--direction` from the command line, `edit` from Python, and one-line errors for bad input."
import shutil
from pathlib import Path

import pytest
import torch

from conftest import cli
from wganface.attributes import attribute_directions
from wganface.labels import Labels, read_labels_file
from wganface.directions import Directions, load_directions, read_directions, save_directions
from wganface.faces import builtin_faces_path
from wganface.latents import seed_latents
from wganface.models import face_generator, sample_faces
from wganface.runs import as_run
from wganface.steering import edit, sefa

FIXTURE = Path(__file__).parent / 'fixtures' / 'ckpt-v0.1.0-size16-nz8.pt'
LABELS = builtin_faces_path() / 'labels.csv'


def make_run(folder):
    "A run folder holding the 0.1.0 checkpoint (16x16 faces, 8 latent dims)"
    (folder / 'checkpoints').mkdir(parents=True)
    shutil.copy(FIXTURE, folder / 'checkpoints' / 'ckpt-0000004.pt')
    return folder


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A run folder whose directions.npz holds smile and light (fitted from the built-in labels) and sefa:0-3"
    folder = make_run(tmp_path_factory.mktemp('directions') / 'run')
    code, out = cli('directions', folder, '--labels', LABELS, '--attrs', 'smile,light', '--n-samples', 200,
                    '--out', folder / 'directions.npz')
    assert code == 0, out
    code, out = cli('directions', folder, '--sefa', 4)
    assert code == 0, out
    return folder


def test_directions_command_writes_beside_the_run(run):
    dirs = read_directions(run / 'directions.npz')
    assert dirs.names == ['smile', 'light', 'sefa:0', 'sefa:1', 'sefa:2', 'sefa:3']
    assert dirs.nz == 8 and dirs.info['nz'] == 8 and dirs.info['run'] == str(run.resolve())
    assert dirs.info['about']['smile']['route'] == 'pseudo' and dirs.info['about']['smile']['n_labels'] == 42
    torch.testing.assert_close(dirs.vectors.norm(dim=1), torch.ones(6))


def test_explorers_take_directions(run):
    code, out = cli('explore', 'sweep', run, '--direction', 'smile,light', '--n-values', 3, '--scale', 1)
    assert code == 0, out
    assert (run / 'explore' / 'sweep-smile_light-lo-3-hi3-seed0-n3.gif').is_file()
    code, out = cli('explore', 'sweep', run, '--direction', 'sefa:0-9', '--n-values', 2, '--scale', 1)
    assert code == 2 and 'sefa:8 does not exist: this generator has 8 sefa directions' in out
    code, out = cli('explore', 'sweep', run, '--direction', 'sefa:0-2', '--orthogonal-to', 'others', '--n-values', 2, '--scale', 1)
    assert code == 0, out
    code, out = cli('explore', 'extremes', run, '--direction', 'light', '--out', run / 'ext.gif', '--scale', 1)
    assert code == 0, out
    code, out = cli('explore', 'report', run, '--direction', 'sefa:0-3,smile', '--n-samples', 2)
    assert code == 0 and 'sefa:0' in out


def test_edit_from_python(run):
    r = as_run(run)
    x = edit(r, [0, 1], {'smile': 1.5, 'light': -1})
    assert x.shape == (2, 3, 16, 16)
    dirs = load_directions(run / 'directions.npz', r)
    z = seed_latents([0, 1], 8) + 1.5 * dirs['smile'] - dirs['light']
    torch.testing.assert_close(edit(r, [0, 1], {'smile': 1.5, 'light': -1}, typical=False), sample_faces(r.generator, z=z))
    # orthogonal to the other attribute: the smile edit no longer moves the latent along light
    d = edit(r, 0, {'smile': 2}, orthogonal_to='light', typical=False) - edit(r, 0, {}, typical=False)
    assert d.abs().max() > 0
    assert torch.equal(edit(r, 3, {}), r.sample(1, seed=3))


def test_attribute_directions_recover_a_planted_direction():
    "Marked seeds whose label is a latent coordinate give that direction back, in the whole space and in a SeFa subspace that holds it"
    torch.manual_seed(0)
    g = face_generator(16, nz=8, n_features=8).eval()
    truth = sefa(g, 3)[0][1]
    seeds = list(range(200))
    labels = Labels(['planted'], (seed_latents(seeds, 8) @ truth).numpy()[:, None], seeds=seeds, source='test')
    for subspace in (0, 3):
        dirs, table, _ = attribute_directions(as_run(g), labels, subspace=subspace, n_perm=20)
        assert dirs['planted'] @ truth > 0.99 and table.heldout_rho[0] > 0.95 > table.chance_p95[0]


def test_labelled_images_take_latents_from_a_projector(run):
    "Any image -> latent function plugs in (`latents_of`); route 'project' uses wganface.projection"
    labels = read_labels_file(LABELS).subset(range(8))
    seen = []
    def projector(faces):
        seen.append(tuple(faces.shape))
        return seed_latents(range(len(faces)), 8)
    dirs, table, scorer = attribute_directions(run, labels, 'smile', latents_of=projector, n_perm=5)
    assert seen == [(8, 3, 16, 16)] and table.route[0] == 'latents' and scorer is None


@pytest.mark.slow
def test_project_route(run):
    labels = read_labels_file(LABELS).subset(range(6))
    dirs, table, _ = attribute_directions(run, labels, 'light', route='project', n_perm=5)
    assert table.route[0] == 'project' and dirs.names == ['light']


# --- bad input: one line, exit status 2 ----------------------------------------


def one_line_error(code, out, *words):
    lines = [l for l in out.splitlines() if 'error' in l]
    assert code == 2 and len(lines) == 1, out
    for w in words: assert w in lines[0], (w, lines[0])


def test_unknown_attribute_or_direction(run):
    one_line_error(*cli('directions', run, '--labels', LABELS, '--attrs', 'frown'), "unknown attribute 'frown'", 'smile, mouth_open')
    one_line_error(*cli('explore', 'sweep', run, '--direction', 'frown'), "unknown direction 'frown'", 'smile, light, sefa:0')


def test_labels_that_name_no_file(run, tmp_path):
    (tmp_path / 'labels.csv').write_text('file,smile\nnope.png,1\nnada.png,0\n')
    one_line_error(*cli('directions', run, '--labels', tmp_path / 'labels.csv'), 'none of the 2 files labels.csv names is in', '--images')
    one_line_error(*cli('directions', run, '--labels', tmp_path / 'missing.csv'), 'does not exist')


def test_a_single_class(run, tmp_path):
    for i in range(6): (tmp_path / f'f{i}.png').write_bytes((builtin_faces_path() / f'face_00{i}.png').read_bytes())
    (tmp_path / 'labels.csv').write_text('file,smiling\n' + ''.join(f'f{i}.png,1\n' for i in range(6)))
    one_line_error(*cli('directions', run, '--labels', tmp_path / 'labels.csv'), "'smiling' has the single value 1 in all 6")


def test_two_folders(run, tmp_path):
    yes, no = tmp_path / 'yes', tmp_path / 'no'
    for d, names in ((yes, ('face_000.png', 'face_005.png', 'face_011.png')), (no, ('face_001.png', 'face_002.png', 'face_004.png'))):
        d.mkdir()
        for n in names: shutil.copy(builtin_faces_path() / n, d / n)
    code, out = cli('directions', run, '--with-images', yes, '--without-images', no, '--name', 'grin', '--n-samples', 100,
                    '--out', tmp_path / 'grin.json')
    assert code == 0, out
    assert read_directions(tmp_path / 'grin.json').names == ['grin']
    one_line_error(*cli('directions', run, '--with-images', yes, '--without-images', tmp_path / 'nowhere'), 'does not exist')


def test_a_direction_file_of_another_run_or_nz(run, tmp_path):
    other = make_run(tmp_path / 'other')
    ckpt = torch.load(other / 'checkpoints' / 'ckpt-0000004.pt', weights_only=True)
    torch.save({**ckpt, 'generator_ema': None}, other / 'checkpoints' / 'ckpt-0000004.pt')  # other weights: another generator
    one_line_error(*cli('explore', 'sweep', other, '--direction', 'smile', '--directions', run / 'directions.npz'),
                   'belong to another generator', 'wganface directions RUN')
    save_directions(Directions(['wide'], torch.ones(1, 12)), tmp_path / 'nz12.npz')
    one_line_error(*cli('explore', 'sweep', run, '--direction', 'wide', '--directions', tmp_path / 'nz12.npz'),
                   'nz=12', "this run's takes nz=8")
    one_line_error(*cli('directions', other, '--sefa', 2, '--out', run / 'directions.npz'), 'belong to another generator')
    one_line_error(*cli('directions', run, '--sefa', 2), 'already holds sefa:0, sefa:1', '--overwrite')
