"Photos into the latent space end to end: `wganface project`, `encoder`, `variations`, `--latents` in the explorers, and their one-line errors"
import json, shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from conftest import cli

FIXTURE = Path(__file__).parent/'fixtures'/'ckpt-v0.1.0-size16-nz8.pt'
FAST = ('--steps', '15', '--n-random', '16', '--n-starts', '2', '--no-progress')


@pytest.fixture
def run_dir(tmp_path):
    "A run folder holding the 0.1.0 checkpoint (16x16 faces, 8 latent dims)"
    d = tmp_path/'run'
    (d/'checkpoints').mkdir(parents=True)
    shutil.copy(FIXTURE, d/'checkpoints'/'ckpt-0000004.pt')
    return d


@pytest.fixture
def photo(tmp_path):
    "scikit-image's astronaut as a landscape photo: the face must be found"
    p = tmp_path/'astronaut.jpg'
    Image.fromarray(skdata.astronaut()[:300, 50:450]).save(p)
    return p


def test_project_then_walk_loop_and_vary(run_dir, photo, tmp_path):
    out = tmp_path/'proj'
    code, text = cli('project', run_dir, photo, '--out', out, '--scale', '1', *FAST)
    assert code == 0, text
    assert {p.name for p in out.iterdir()} == {'astronaut.npy', 'astronaut-projection.gif', 'latents.npy', 'sheet.png', 'projections.json'}
    summary = json.loads((out/'projections.json').read_text())['projections'][0]
    assert summary['crop'].startswith('face found') and summary['psnr'] > 0
    me = out/'astronaut.npy'
    assert np.load(me).shape == (1, 8)
    code, text = cli('explore', 'walk', run_dir, '--latents', me, '--seeds', '3', '--n-frames', '2', '--closed', '--out', tmp_path/'walk.gif', '--scale', '1')
    assert code == 0 and (tmp_path/'walk.gif').exists(), text
    code, text = cli('explore', 'loop', run_dir, '--latents', me, '--kind', 'breathe', '--n-frames', '4', '--out', tmp_path/'loop.gif', '--scale', '1')
    assert code == 0 and (tmp_path/'loop.gif').exists(), text
    code, text = cli('explore', 'sweep', run_dir, '--latents', me, '--dims', '0-1', '--n-values', '2', '--out', tmp_path/'sweep.gif', '--scale', '1')
    assert code == 0 and (tmp_path/'sweep.gif').exists(), text
    code, text = cli('variations', run_dir, me, '--n', '3', '--out', tmp_path/'vary.png', '--scale', '1')
    assert code == 0 and (tmp_path/'vary.png').exists(), text
    # nothing is replaced without --overwrite
    before = (out/'sheet.png').stat().st_mtime_ns
    code, text = cli('project', run_dir, photo, '--out', out, *FAST)
    assert code == 2 and 'already exists' in text and text.count('\n') == 1, text
    assert (out/'sheet.png').stat().st_mtime_ns == before
    code, text = cli('project', run_dir, photo, '--out', out, '--overwrite', '--scale', '1', *FAST)
    assert code == 0, text


def test_encoder_command_and_start(run_dir, photo, tmp_path):
    code, text = cli('encoder', run_dir, '--steps', '10', '--bs', '4', '--no-progress')
    assert code == 0 and (run_dir/'encoder.pt').exists(), text
    code, text = cli('encoder', run_dir, '--steps', '10', '--no-progress')
    assert code == 2 and 'already exists' in text, text
    code, text = cli('project', run_dir, photo, '--out', tmp_path/'p', '--scale', '1', *FAST)
    assert code == 0, text
    starts = json.loads((tmp_path/'p'/'projections.json').read_text())['projections'][0]['start']
    assert starts.startswith(('random', 'encoder'))


@pytest.mark.parametrize('make, message', [
    (lambda d: Image.fromarray(skdata.coffee()).save(d/'coffee.jpg') or d/'coffee.jpg', 'no face found in coffee.jpg'),
    (lambda d: Image.new('RGB', (8, 8)).save(d/'tiny.png') or d/'tiny.png', 'smaller than the generator'),
    (lambda d: Image.new('L', (64, 64)).save(d/'grey.png') or d/'grey.png', 'greyscale image (mode L)'),
    (lambda d: ((d/'notes.png').write_text('not an image'), d/'notes.png')[1], 'cannot read'),
])
def test_bad_images_are_one_line_errors(run_dir, tmp_path, make, message):
    code, text = cli('project', run_dir, make(tmp_path), '--out', tmp_path/'out', *FAST)
    assert code == 2 and message in text and text.count('\n') == 1, text
    assert not (tmp_path/'out').exists()  # refused before anything was written


def test_latents_of_the_wrong_size_are_one_line_errors(run_dir, tmp_path):
    np.save(tmp_path/'z5.npy', np.zeros((1, 5), np.float32))
    for args in (('explore', 'walk', run_dir, '--latents', tmp_path/'z5.npy', '--seeds', '1'),
                 ('explore', 'sweep', run_dir, '--latents', tmp_path/'z5.npy'),
                 ('variations', run_dir, tmp_path/'z5.npy')):
        code, text = cli(*args)
        assert code == 2 and 'shaped (K,8) for this generator, got (1, 5)' in text and text.count('\n') == 1, (args, text)


def test_a_generator_without_critic():
    from wganface.projection import project
    from wganface.runs import load_run
    run = load_run(FIXTURE, critic=False, device='cpu')
    target = torch.zeros(3, 16, 16)
    with pytest.raises(ValueError, match='has no critic'): project(run, target, steps=1, n_random=2, progress=False)
    assert project(run, target, steps=1, n_random=2, critic_weight=0, progress=False).latent.shape == (8,)
