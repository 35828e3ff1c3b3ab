"Behaviour of wganface.evaluate: the offline report of a run, checkpoint, `Run` or generator, and the training callback."
import json, math, socket

import pytest
import torch
from torch import nn

from conftest import quiet_train
from test_inception import toy_extractor
from wganface.evaluate import REPORT_FILES, EvalCallback, evaluate, read_metrics
from wganface.metrics import load_real_faces
from wganface.models import face_critic, face_generator
from wganface.runs import Run, list_checkpoints


@pytest.fixture(scope='module')
def reals(): return load_real_faces(size=32)


def tiny_train(out, **kwargs):
    "A tiny 32x32 run on the built-in faces"
    return quiet_train(out=out, **{**dict(epochs=4, steps_per_epoch=4, bs=16, size=32, nz=16), **kwargs})


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A tiny run trained on the built-in faces: the checkpoint, critic and data paths are the real ones"
    out = tmp_path_factory.mktemp('evaluate') / 'run'
    tiny_train(out, epochs=2, steps_per_epoch=6)
    return out


@pytest.fixture
def offline(monkeypatch):
    "Any attempt to open a network connection fails the test"
    def refuse(*args, **kwargs): raise AssertionError('evaluate tried to reach the network')
    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)


class CopyingGenerator(nn.Module):
    "A 'generator' that returns training faces, one after another, whatever the noise"
    def __init__(self, faces):
        super().__init__()
        self.faces, self.dummy = faces, nn.Parameter(torch.zeros(1))
        self.count = 0

    def forward(self, z):
        idx = (torch.arange(len(z)) + self.count) % len(self.faces)
        self.count += len(z)
        return self.faces[idx]


def copying_run(faces):
    "The copier as a `Run`: it is no real network, so its options are given, not read from its layers"
    return Run(CopyingGenerator(faces), dict(nz=8, noise='normal', size=faces.shape[-1]))


# --- the report --------------------------------------------------------------

def test_evaluate_writes_the_report_offline(run, tmp_path, offline):
    rep = evaluate(run, n=48, inception=str(toy_extractor(tmp_path / 'toy.pt')), classifier_epochs=2, device='cpu', n_show=3)
    out = run / 'eval'
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert json.loads((out / 'report.json').read_text()) == json.loads(json.dumps(rep))
    page = (out / 'report.html').read_text()
    assert page.count('data:image/png;base64,') == 3 and 'http' not in page
    assert rep['meta']['holdout'] == 'new renders of the built-in person' and rep['meta']['n_holdout'] == 128
    assert set(rep['memorisation']) == {'pixel', 'hog', 'critic'} and 'kid' in rep['inception']
    assert {'critic', 'classifier'} <= set(rep['realness'])
    assert rep['meta']['checkpoint'] == str(list_checkpoints(run)[-1]) and rep['meta']['epoch'] == 2
    with pytest.raises(FileExistsError, match='overwrite'): evaluate(run, n=48)
    rep2 = evaluate(run, n=48, classifier_epochs=0, device='cpu', overwrite=True)
    assert 'skipped' in rep2['inception'] and 'download' in rep2['inception']['skipped']


def test_evaluate_a_checkpoint_file_and_the_inception_variable(run, tmp_path, monkeypatch):
    ckpt = list_checkpoints(run)[-1]
    monkeypatch.setenv('WGANFACE_INCEPTION', str(toy_extractor(tmp_path / 'toy.pt')))
    rep = evaluate(str(ckpt), n=24, classifier_epochs=0, device='cpu')
    assert rep['files']['report.json'] == str(run / f'eval-{ckpt.stem}' / 'report.json') and 'kid' in rep['inception']
    monkeypatch.setenv('WGANFACE_INCEPTION', str(tmp_path / 'missing.pt'))
    with pytest.raises(FileNotFoundError, match='missing.pt'): evaluate(run, n=24, out=str(tmp_path / 'x'))
    assert not (tmp_path / 'x').exists()


def test_evaluate_uses_the_moving_average_when_kept(tmp_path):
    tiny_train(tmp_path / 'ema', epochs=2, ema=0.9)
    kept = evaluate(tmp_path / 'ema', n=24, classifier_epochs=0, device='cpu')
    raw = evaluate(tmp_path / 'ema', n=24, classifier_epochs=0, device='cpu', ema=False, out=str(tmp_path / 'raw'))
    assert kept['meta']['ema'] is True and raw['meta']['ema'] is False
    assert kept['swd']['fake_vs_real'] != raw['swd']['fake_vs_real']


def test_evaluate_catches_a_copying_generator(reals, tmp_path):
    rep = evaluate(copying_run(reals), n=84, out=str(tmp_path / 'copy'), classifier_epochs=0, device='cpu')
    assert rep['memorisation']['pixel']['z'] < -5 and rep['memorisation']['pixel']['near_copies'] == 84
    assert rep['diversity']['near_duplicates'] == 84
    assert 'critic' not in rep['memorisation'] and 'skipped' in rep['realness']['critic']


def test_evaluate_takes_a_generator_module_and_a_critic_module(tmp_path):
    torch.manual_seed(0)
    rep = evaluate(face_generator(32, nz=16, n_features=8), n=12, out=str(tmp_path / 'g'), classifier_epochs=0, device='cpu',
                   critic=face_critic(32, n_features=8))
    assert rep['meta']['size'] == 32 and rep['meta']['checkpoint'] is None and 'auc' in rep['realness']['critic']


def test_evaluate_checks_options_first(run, tmp_path, reals):
    with pytest.raises(ValueError, match='n=2'): evaluate(run, n=2)
    with pytest.raises(ValueError, match='out='): evaluate(copying_run(reals))
    with pytest.raises(ValueError, match='32x32'): evaluate(run, real=torch.zeros(4, 3, 64, 64), out=str(tmp_path / 'r'), n=24)


# --- during training ---------------------------------------------------------

def test_eval_callback_logs_metrics_without_changing_training(tmp_path):
    plain = tiny_train(tmp_path / 'plain')
    learn = tiny_train(tmp_path / 'eval', cbs=[EvalCallback(every=2, n=24)])
    recs = read_metrics(tmp_path / 'eval')
    assert [r['epoch'] for r in recs] == [2, 4] and (tmp_path / 'eval' / 'metrics.png').exists()
    assert {'swd', 'swd_real_floor', 'msssim_fake', 'copy_z_pixel', 'coverage', 'steps'} <= set(recs[0])
    for a, b in zip(plain.model.generator.state_dict().values(), learn.model.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_eval_callback_with_wgan_learner(tmp_path, reals):
    import warnings
    from fastai.torch_core import set_seed
    from wganface.data import face_dls
    from wganface.gan import wgan_learner
    set_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        dls = face_dls(bs=16, nz=16, size=32, steps_per_epoch=2, device='cpu')
        learn = wgan_learner(dls, face_generator(32, nz=16, n_features=8), face_critic(32, n_features=8),
                             cbs=[EvalCallback(reals, every=1, n=16, run_dir=tmp_path)])
        with learn.no_bar(), learn.no_logging(): learn.fit(3)
    assert [r['epoch'] for r in read_metrics(tmp_path)] == [1, 2, 3]
    # the tensor given has no held-out set: the copying score falls back to leave-one-out
    assert all(math.isfinite(r['copy_z_hog']) for r in read_metrics(tmp_path))
