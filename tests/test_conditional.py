"Conditional training (`train(condition=labels.csv)`): the labels reach generator and critic, `sample --attrs` asks for them"
import json
import numpy as np, pytest, torch
from PIL import Image
from conftest import TINY, cli, quiet_train
from wganface.conditional import ConditionalGenerator
from wganface.faces import builtin_faces_path
from wganface.models import sample_faces
from wganface.runs import load_run

LABELS = builtin_faces_path()/'labels.csv'

@pytest.fixture(scope='module')
def dark_faces(tmp_path_factory):
    "24 built-in faces at 16x16, every other one darkened, and a labels CSV saying which (`dark` 1/0)"
    d = tmp_path_factory.mktemp('dark')
    (d/'faces').mkdir()
    rows = ['file,dark']
    for i, f in enumerate(sorted(builtin_faces_path().glob('*.png'))[:24]):
        im = np.asarray(Image.open(f).convert('RGB').resize((16, 16)))
        if i % 2: im = (im * 0.35).astype(np.uint8)
        Image.fromarray(im).save(d/'faces'/f'f{i:02d}.png'); rows.append(f'f{i:02d}.png,{i % 2}')
    (d/'labels.csv').write_text('\n'.join(rows) + '\n')
    return d

def test_a_conditional_run_makes_what_it_is_asked_for(dark_faces, tmp_path):
    "Trained on a labelled folder, the generator makes dark faces when asked for dark=1 and bright ones for dark=0"
    learn = quiet_train(data=dark_faces/'faces', out=tmp_path/'run', condition=dark_faces/'labels.csv', epochs=10, steps_per_epoch=60, seed=1)
    g = learn.generator_ema.ema  # what the run samples from
    dark, bright = (sample_faces(g, 64, seed=5, attrs={'dark': v}).mean().item() for v in (1., 0.))
    assert bright - dark > 0.15, (dark, bright)
    r = load_run(tmp_path/'run')
    assert isinstance(r.generator, ConditionalGenerator) and r.generator.names == ['dark']
    test_dark, test_bright = r.sample(32, attrs={'dark': 1}).mean().item(), r.sample(32, attrs={'dark': 0}).mean().item()
    assert test_bright - test_dark > 0.15
    assert json.loads((tmp_path/'run'/'options.json').read_text())['condition_attrs'] == ['dark']

def test_cli_trains_samples_and_resumes_a_conditional_run(tmp_path):
    run = tmp_path/'run'
    code, out = cli('train', '--out', run, '--condition', LABELS, '--epochs', '1', '--steps-per-epoch', '4', '--bs', '8',
                    '--size', '16', '--nz', '8', '--n-features', '8', '--no-progress', '--device', 'cpu')
    assert code == 0, out
    assert load_run(run).generator.names == ['smile', 'mouth_open', 'eye_open', 'brow_raise', 'dx', 'dy', 'light', 'brightness']
    # a conditional run's own defaults: weak R1, no DiffAugment, 2 critic steps (with any other, the faces followed the labels less)
    opts = json.loads((run/'options.json').read_text())
    assert (opts['penalty_weight'], opts['diffaug'], opts['n_crit']) == (1., '', 2) and 'diffaug: off (a conditional run' in out, out
    grids = [tmp_path/f'{v}.png' for v in ('smile', 'frown', 'plain')]
    for f, attrs in zip(grids, ('smile=1,eye_open=1', 'smile=-1,eye_open=0', '')):
        assert cli('sample', run, '--n', '4', '--attrs', attrs, '--out', f)[0] == 0
    pix = [np.asarray(Image.open(f)) for f in grids]
    assert not np.array_equal(pix[0], pix[1]) and not np.array_equal(pix[0], pix[2])
    assert cli('sample', run, '--n', '4', '--out', tmp_path/'again.png')[0] == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path/'again.png')), pix[2])  # no attrs: every attribute at its mean, the same faces
    code, out = cli('train', '--out', run, '--resume', '--epochs', '2', '--no-progress', '--device', 'cpu')
    assert code == 0, out
    assert len((run/'log.jsonl').read_text().splitlines()) == 2
    # the stored mean and spread survive the checkpoint: label units mean the same after a resume
    assert torch.allclose(load_run(run).generator.std, torch.tensor(np.loadtxt(LABELS, delimiter=',', skiprows=1, usecols=range(1, 9)).std(0, ddof=1), dtype=torch.float32), atol=1e-5)

@pytest.mark.parametrize('labels, msg', [
    ('file,dark\nf00.png,1\nf01.png,0\n', '22 of the 24 training images have no row in bad.csv (the first: f02.png)'),
    ('file,dark\n' + ''.join(f'f{i:02d}.png,1\n' for i in range(24)), "'dark' has the single value 1"),
    ('file,dark\n' + ''.join(f'f{i:02d}.png,{"" if i == 5 else i % 2}\n' for i in range(24)), "f05.png has no 'dark' value"),
    ('seed,dark\n1,0\n2,1\n', 'labels seeds, not images'),
])
def test_bad_condition_labels_are_one_line_errors(dark_faces, tmp_path, labels, msg):
    (tmp_path/'bad.csv').write_text(labels)
    code, out = cli('train', dark_faces/'faces', '--out', tmp_path/'run', '--condition', tmp_path/'bad.csv', '--epochs', '1',
                    '--steps-per-epoch', '2', '--size', '16', '--n-features', '8', '--no-progress')
    assert code == 2 and msg in out and len(out.strip().splitlines()) == 1, out
    assert not list((tmp_path/'run').glob('checkpoints/*.pt'))

def test_attrs_need_a_conditional_run_and_known_names(tmp_path):
    quiet_train(out=tmp_path/'plain', epochs=1)
    code, out = cli('sample', tmp_path/'plain', '--attrs', 'smile=1', '--out', tmp_path/'x.png')
    assert code == 2 and 'trained without attributes' in out and not (tmp_path/'x.png').exists()
    quiet_train(out=tmp_path/'cond', epochs=1, condition=LABELS)
    for attrs, msg in (('grin=1', "unknown attribute 'grin'"), ('smile', 'NAME=VALUE')):
        code, out = cli('sample', tmp_path/'cond', '--attrs', attrs, '--out', tmp_path/'x.png')
        assert code == 2 and msg in out, out
    (tmp_path/'other.csv').write_text(LABELS.read_text())
    code, out = cli('train', '--out', tmp_path/'cond', '--resume', '--epochs', '2', '--condition', tmp_path/'other.csv')
    assert code == 2 and "resuming keeps the run's recipe" in out, out
