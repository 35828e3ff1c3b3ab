"Behaviour of wganface.evaluate: each metric's defining properties, the offline report, and the training callback."
import contextlib, io, json, math, socket, warnings

import numpy as np
import pytest
import torch
from torch import nn

from wganface.evaluate import (REPORT_FILES, EvalCallback, builtin_holdout, classifier_test, critic_test, diversity,
                               evaluate, extract_features, hog_features, kid_fid, load_inception, load_real_faces,
                               mann_whitney_z, memorisation, near_duplicates, pairwise_msssim, read_metrics, swd)
from wganface.models import face_critic, face_generator


@pytest.fixture(scope='module')
def reals(): return load_real_faces(size=32)


@pytest.fixture(scope='module')
def holdout(): return builtin_holdout(42, size=32)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A tiny run trained on the built-in faces: the checkpoint, critic and data paths are the real ones"
    from wganface.train import train
    out = tmp_path_factory.mktemp('evaluate') / 'run'
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter('ignore')
        train(out=out, epochs=2, steps_per_epoch=6, bs=16, size=32, nz=16, n_features=8, progress=False, device='cpu')
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
        self.config = dict(size=faces.shape[-1], nz=8, noise='normal', epoch=0, steps=0, checkpoint=None)
        self.count = 0

    def forward(self, z):
        idx = (torch.arange(len(z)) + self.count) % len(self.faces)
        self.count += len(z)
        return self.faces[idx]


def tiny_train(out, cbs=None, epochs=4, **kwargs):
    from wganface.train import train
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return train(out=out, epochs=epochs, steps_per_epoch=4, bs=16, size=32, nz=16, n_features=8, progress=False,
                     device='cpu', cbs=cbs, **kwargs)


def blur(x, sigma):
    from torchvision.transforms.functional import gaussian_blur
    return gaussian_blur(x, kernel_size=2 * math.ceil(3 * sigma) + 1, sigma=sigma)


def toy_extractor(path):
    "A small random network saved as TorchScript, standing in for Inception"
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()).eval()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        torch.jit.trace(net, torch.rand(2, 3, 32, 32)).save(path)
    return path


# --- SWD ---------------------------------------------------------------------

def test_swd_real_vs_real_far_below_real_vs_noise(reals, holdout):
    same, new = swd(reals, reals)['mean'], swd(holdout, reals)['mean']
    noise = swd(torch.rand_like(reals) * 2 - 1, reals)['mean']
    assert same * 5 < noise and new * 4 < noise


def test_swd_grows_with_blur(reals):
    values = [swd(reals, reals)['mean']] + [swd(blur(reals, s), reals)['mean'] for s in (1., 2., 3.)]
    assert values == sorted(values) and values[-1] > 5 * values[0]


def test_swd_levels_and_determinism(reals):
    s = swd(reals[:10], reals[10:20], seed=3)
    assert list(s) == ['32', '16', 'mean'] and s == swd(reals[:10], reals[10:20], seed=3)
    with pytest.raises(ValueError, match='one size'): swd(reals, load_real_faces(size=16))


# --- diversity ---------------------------------------------------------------

def test_msssim_of_identical_images_is_one(reals):
    same = pairwise_msssim(reals[3:4].repeat(10, 1, 1, 1))
    assert torch.allclose(same, torch.ones_like(same), atol=1e-4)
    assert pairwise_msssim(reals).mean() < 0.9


def test_diversity_flags_collapse_and_counts_duplicates(reals):
    collapsed = diversity(reals[:2].repeat(10, 1, 1, 1), reals)
    assert collapsed['msssim_fake'] > 0.9 and 'collapse' in collapsed['verdict']
    assert collapsed['near_duplicates'] == 20 and collapsed['near_duplicates_real'] == 0
    assert near_duplicates(reals + 0.01 * torch.randn_like(reals)) == 0


# --- memorisation ------------------------------------------------------------

def test_memorisation_flags_a_copying_generator(reals, holdout):
    from wganface.train import sample_faces
    fakes = sample_faces(CopyingGenerator(reals), 84)
    critic = face_critic(32, n_features=8).eval()
    res = memorisation(fakes, reals, holdout, critic=critic)
    for space in ('pixel', 'hog', 'critic'):
        assert res[space]['z'] < -5 and 'copying' in res[space]['verdict']
        assert res[space]['near_copies'] == 84 and res[space]['coverage'] == 1.0


def test_memorisation_passes_new_real_faces(reals, holdout):
    new = builtin_holdout(64, size=32, seed=5)
    res = memorisation(new, reals, builtin_holdout(128, size=32))
    assert all(-3 < res[s]['z'] < 3 and 'no sign' in res[s]['verdict'] for s in ('pixel', 'hog')), {s: res[s]['z'] for s in res}
    # without held-out faces, leave-one-out distances are the reference
    assert all(-3 < z < 3 for z in (memorisation(new, reals)[s]['z'] for s in ('pixel', 'hog')))


def test_mann_whitney_z_sign():
    assert mann_whitney_z([1, 2, 3], [10, 11, 12]) < 0 < mann_whitney_z([10, 11, 12], [1, 2, 3])


def test_hog_ignores_brightness(reals):
    h = hog_features(reals)
    assert ((hog_features(reals * 0.8) - h).norm(dim=1) < 0.05 * h.norm(dim=1)).all()


# --- real vs synthetic -------------------------------------------------------

def test_classifier_tells_noise_from_faces(reals):
    res = classifier_test(torch.rand_like(reals) * 2 - 1, reals, epochs=4)
    assert res['accuracy'] >= 0.95 and res['auc'] >= 0.99 and res['ci95'][0] > 0.5


def test_critic_test_reports_auc_with_interval(reals):
    res = critic_test(face_critic(32, n_features=8).eval(), torch.rand_like(reals) * 2 - 1, reals)
    assert 0 <= res['ci95'][0] <= res['auc'] <= res['ci95'][1] <= 1 and res['n_real'] == 42


# --- KID / FID ---------------------------------------------------------------

def test_kid_of_identical_sets_is_about_zero(tmp_path, reals):
    net = load_inception(toy_extractor(tmp_path / 'toy.pt'))
    f = extract_features(net, reals)
    same, noise = kid_fid(f, f), kid_fid(extract_features(net, torch.rand_like(reals) * 2 - 1), f)
    assert abs(same['kid']) < 0.05 * noise['kid'] and abs(same['fid']) < 1e-6 * noise['fid']


def test_load_inception_from_a_torchvision_state_dict(tmp_path):
    from torchvision.models.inception import Inception3
    torch.manual_seed(0)
    torch.save(Inception3(num_classes=1008, aux_logits=False, init_weights=False).state_dict(), tmp_path / 'pt_inception.pth')
    net = load_inception(tmp_path / 'pt_inception.pth')
    assert extract_features(net, torch.rand(2, 3, 32, 32) * 2 - 1).shape == (2, 2048)


def test_load_inception_refuses_other_files(tmp_path):
    with pytest.raises(FileNotFoundError): load_inception(tmp_path / 'missing.pt')
    torch.save({'weight': torch.zeros(3)}, tmp_path / 'other.pth')
    with pytest.raises(ValueError, match='inception_v3'): load_inception(tmp_path / 'other.pth')


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
    with pytest.raises(FileExistsError, match='overwrite'): evaluate(run, n=48)
    rep2 = evaluate(run, n=48, classifier_epochs=0, device='cpu', overwrite=True)
    assert 'skipped' in rep2['inception'] and 'download' in rep2['inception']['skipped']


def test_evaluate_a_checkpoint_file_and_the_inception_variable(run, tmp_path, monkeypatch):
    from wganface.train import list_checkpoints
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
    rep = evaluate(CopyingGenerator(reals), n=84, out=str(tmp_path / 'copy'), classifier_epochs=0, device='cpu')
    assert rep['memorisation']['pixel']['z'] < -5 and rep['memorisation']['pixel']['near_copies'] == 84
    assert rep['diversity']['near_duplicates'] == 84
    assert 'critic' not in rep['memorisation'] and 'skipped' in rep['realness']['critic']


def test_evaluate_checks_options_first(run, tmp_path, reals):
    with pytest.raises(ValueError, match='n=2'): evaluate(run, n=2)
    with pytest.raises(ValueError, match='out='): evaluate(CopyingGenerator(reals))
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
    from fastai.torch_core import set_seed
    from wganface.data import face_dls
    from wganface.train import wgan_learner
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
