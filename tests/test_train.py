import json
import pytest, torch
from conftest import quiet_train as _quiet_train
from wganface.latents import sample_noise
from wganface.models import sample_faces
from wganface.outputs import save_samples
from wganface.runs import CheckpointError, list_checkpoints, load_checkpoint, load_critic, load_generator, load_run, read_log

def quiet_train(**kw): return _quiet_train(**{'epochs': 2, 'save_every': 1, **kw})

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp('runs')/'tiny'
    learn = quiet_train(out=out)
    return out, learn

def test_run_folder_contents(run):
    out, _ = run
    assert sorted(p.name for p in out.iterdir()) == ['checkpoints', 'fakes', 'log.jsonl', 'loss.png', 'options.json', 'reals.png']
    assert [p.name for p in sorted((out/'fakes').iterdir())] == ['epoch-0001.png', 'epoch-0002.png']
    opts = json.loads((out/'options.json').read_text())
    assert opts['nz'] == 8 and opts['n_images'] == 42 and opts['wganface_version']
    log = read_log(out)
    assert [r['epoch'] for r in log] == [1, 2] and [r['steps'] for r in log] == [6, 12]
    assert all(r['crit_loss'] is not None and r['images_per_s'] > 0 for r in log)
    assert (out/'loss.png').stat().st_size > 1000

def test_checkpoint_is_plain_data_with_options_and_versions(run):
    out, _ = run
    f = list_checkpoints(out)[-1]
    ckpt = torch.load(f, weights_only=True)  # no code unpickled
    assert ckpt['options']['n_features'] == 8 and ckpt['epoch'] == 2
    assert {'wganface_version', 'fastai_version', 'torch_version', 'generator', 'critic', 'opt', 'switcher'} <= set(ckpt)
    assert ckpt['switcher']['crit_steps'] == 6 and ckpt['switcher']['gen_steps'] == 6  # n_crit 1 by default

def test_checkpoint_round_trip_gives_identical_faces(run):
    out, learn = run
    r = load_run(out, device='cpu')
    g = r.generator
    z = sample_noise(5, 8, seed=11)
    assert torch.equal(sample_faces(g, z=z), sample_faces(learn.generator_ema.ema, z=z))  # the moving average, by default
    assert torch.equal(sample_faces(load_generator(out, device='cpu', ema=False), z=z), sample_faces(learn.model.generator, z=z))
    assert (r.nz, r.size, r.folder, r.epoch, r.steps) == (8, 16, out, 2, 12) and not g.training

def test_resume_continues_step_count(tmp_path):
    out = tmp_path/'r'
    quiet_train(out=out, epochs=2)
    with pytest.raises(FileExistsError, match='already holds a run'): quiet_train(out=out)
    with pytest.raises(ValueError, match='already trained 2 epochs'): quiet_train(out=out, resume=True, epochs=2)
    learn = quiet_train(out=out, resume=True, epochs=3)
    assert [r['steps'] for r in read_log(out)] == [6, 12, 18]
    assert learn.step_switcher.crit_steps == 9 and learn.step_switcher.gen_steps == 9
    assert load_checkpoint(list_checkpoints(out)[-1])['epoch'] == 3

def test_overwrite_replaces_only_run_files(tmp_path):
    out = tmp_path/'r'
    quiet_train(out=out, epochs=1)
    (out/'my-notes.txt').write_text('keep me')
    quiet_train(out=out, epochs=1, overwrite=True)
    assert (out/'my-notes.txt').read_text() == 'keep me'
    assert len(read_log(out)) == 1
    with pytest.raises(ValueError, match='contradict'): quiet_train(out=out, resume=True, overwrite=True)

def test_keep_limits_checkpoints(tmp_path):
    out = tmp_path/'r'
    quiet_train(out=out, epochs=3, keep=2)
    assert [p.name for p in list_checkpoints(out)] == ['ckpt-0000012.pt', 'ckpt-0000018.pt']

@pytest.mark.parametrize('content,msg', [
    (b'', 'not a readable wganface checkpoint'),
    (b'PK\x03\x04 garbage', 'not a readable wganface checkpoint'),
])
def test_unreadable_checkpoints(tmp_path, content, msg):
    f = tmp_path/'bad.pt'; f.write_bytes(content)
    with pytest.raises(CheckpointError, match=msg): load_generator(f)

def test_truncated_checkpoint(run, tmp_path):
    out, _ = run
    data = list_checkpoints(out)[-1].read_bytes()
    f = tmp_path/'cut.pt'; f.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='truncated'): load_generator(f)

def test_foreign_checkpoints(tmp_path):
    f = tmp_path/'other.pt'; torch.save({'state_dict': {}}, f)
    with pytest.raises(CheckpointError, match='not a wganface checkpoint'): load_generator(f)
    g = tmp_path/'code.pt'; torch.save(torch.nn.Linear(2, 2), g)  # a pickled module: never unpickled
    with pytest.raises(CheckpointError): load_generator(g)

def test_run_without_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='No checkpoint'): load_generator(tmp_path)

@pytest.mark.parametrize('kw,msg', [(dict(lr=-1.), 'lr=-1'), (dict(size=24), 'power of two'), (dict(nz=0), 'nz=0'),
                                    (dict(epochs=0), 'epochs=0'), (dict(opt='sgd'), 'rmsprop')])
def test_impossible_options_fail_before_any_work(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg): quiet_train(out=tmp_path/'r', **kw)
    assert not (tmp_path/'r'/'options.json').exists()

def test_samples_are_seeded(run, tmp_path):
    out, _ = run
    a = save_samples(out, tmp_path/'a.png', n=9, seed=5)
    b = save_samples(out, tmp_path/'b.png', n=9, seed=5, individual=tmp_path/'faces')
    assert a.read_bytes() == b.read_bytes()
    assert len(list((tmp_path/'faces').glob('*.png'))) == 9

def test_ema_generator_is_saved_used_and_resumed(tmp_path):
    out = tmp_path/'ema'
    learn = quiet_train(out=out, epochs=2, ema=0.9)
    z = sample_noise(3, 8, seed=2)
    g = load_generator(out, device='cpu')
    assert load_run(out, device='cpu').ema
    assert torch.equal(sample_faces(g, z=z), sample_faces(learn.generator_ema.ema, z=z))
    assert not torch.equal(sample_faces(g, z=z), sample_faces(load_generator(out, device='cpu', ema=False), z=z))
    learn = quiet_train(out=out, epochs=3, resume=True)
    assert load_checkpoint(list_checkpoints(out)[-1])['options']['ema'] == 0.9
    assert torch.equal(sample_faces(load_generator(out, device='cpu'), z=z), sample_faces(learn.generator_ema.ema, z=z))
    with pytest.raises(ValueError, match='ema=1.5'): quiet_train(out=tmp_path/'bad', ema=1.5)

def test_eval_every_writes_metrics_and_overwrite_clears_them(tmp_path):
    out = tmp_path/'m'
    quiet_train(out=out, epochs=2, eval_every=1, size=32)
    lines = (out/'metrics.jsonl').read_text().splitlines()
    assert [json.loads(l)['epoch'] for l in lines] == [1, 2]
    assert (out/'metrics.png').exists()
    quiet_train(out=out, epochs=1, overwrite=True, size=32)
    assert not (out/'metrics.jsonl').exists()

def test_diffaug_option_trains_resumes_and_is_recorded(tmp_path):
    out = tmp_path/'da'
    learn = quiet_train(out=out, epochs=1, diffaug='color,translation,cutout')
    assert learn.model.critic.diff_augment == 'color,translation,cutout'
    learn = quiet_train(out=out, epochs=2, resume=True)
    assert learn.model.critic.diff_augment == 'color,translation,cutout'
    assert json.loads((out/'options.json').read_text())['diffaug'] == 'color,translation,cutout'
    with pytest.raises(ValueError, match='Unknown DiffAugment'): quiet_train(out=tmp_path/'bad', diffaug='zoom')
    # the share of augmented images is part of the recipe, kept on resume and changeable there
    learn = quiet_train(out=tmp_path/'half', epochs=1, diffaug_p=0.5)
    assert learn.model.critic.diff_augment_p == 0.5 and json.loads((tmp_path/'half'/'options.json').read_text())['diffaug_p'] == 0.5
    assert quiet_train(out=tmp_path/'half', epochs=2, resume=True).model.critic.diff_augment_p == 0.5
    assert quiet_train(out=tmp_path/'half', epochs=3, resume=True, change='diffaug_p=0.25').model.critic.diff_augment_p == 0.25
    with pytest.raises(ValueError, match='diffaug_p=1.5'): quiet_train(out=tmp_path/'bad', diffaug_p=1.5)
    # so is the cutout square's side: a quarter of the image by default, changeable on resume
    assert learn.model.critic.diff_augment_cutout == 0.25
    assert quiet_train(out=tmp_path/'half', epochs=4, resume=True, change='cutout=0.125').model.critic.diff_augment_cutout == 0.125
    assert json.loads((tmp_path/'half'/'options.json').read_text())['cutout'] == 0.125
    with pytest.raises(ValueError, match='cutout=1.0 is not supported'): quiet_train(out=tmp_path/'bad', cutout=1.)
    # a share per augmentation travels in the policy string, and a bad one is a one-line error before training
    learn = quiet_train(out=tmp_path/'own', epochs=1, diffaug='translation:0.5,cutout')
    assert learn.model.critic.diff_augment == 'translation:0.5,cutout'
    with pytest.raises(ValueError, match='translation=2.0 is not supported'): quiet_train(out=tmp_path/'bad2', diffaug='translation:2')
    assert not (tmp_path/'bad2').exists()

def test_lr_anneal_option_anneals_the_rate_resumes_and_is_recorded(tmp_path):
    from fastai.callback.core import Callback
    class Rates(Callback):
        order = 61  # after `LRAnneal` has set the step's rate
        def before_fit(self): self.seen = []
        def before_batch(self): self.seen.append(self.opt.hypers[-1]['lr'])
    out, rates = tmp_path/'an', Rates()
    quiet_train(out=out, epochs=2, lr=1e-3, lr_anneal=0.5, cbs=rates)
    # 12 steps: the first half (and the step at halfway) at the rate given, then down a half cosine to near zero
    assert len(rates.seen) == 12 and rates.seen[:7] == [1e-3] * 7
    assert all(a > b for a, b in zip(rates.seen[6:], rates.seen[7:])) and rates.seen[-1] < 0.1e-3
    assert json.loads((out/'options.json').read_text())['lr_anneal'] == 0.5
    # a resume to 4 epochs anneals over the second half of the new total, so it starts at the full rate again
    learn = quiet_train(out=out, epochs=4, resume=True, cbs=rates)
    assert rates.seen[0] == 1e-3 and rates.seen[-1] < 0.1e-3 and learn.lr_anneal.share == 0.5
    learn = quiet_train(out=out, epochs=5, resume=True, change='lr_anneal=0', cbs=rates)
    assert rates.seen == [1e-3] * 6 and not hasattr(learn, 'lr_anneal')  # 0: a constant rate, no callback
    with pytest.raises(ValueError, match='lr_anneal=2.0 is not supported'): quiet_train(out=tmp_path/'bad', lr_anneal=2.)
    assert not (tmp_path/'bad').exists()

@pytest.mark.parametrize('penalty', ['gp', 'r1'])
def test_penalties_train_resume_and_rebuild_a_critic_without_batch_norm(tmp_path, penalty):
    out = tmp_path/penalty
    learn = quiet_train(out=out, penalty=penalty, opt='adam', penalty_every=2)
    assert learn.critic_penalty.values and all(v >= 0 for v in learn.critic_penalty.values)
    assert learn.gan_trainer.clip is None  # no weight clipping under a penalty
    o = json.loads((out/'options.json').read_text())
    assert (o['penalty'], o['critic_norm'], o['penalty_every']) == (penalty, 'none', 2)
    learn = quiet_train(out=out, epochs=3, resume=True)
    assert learn.step_switcher.steps == 18 and hasattr(learn, 'critic_penalty')
    crit = load_critic(out, device='cpu')
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in crit.modules())
    x = torch.randn(4, 3, 16, 16)
    learn.model.critic.eval()
    assert torch.allclose(crit(x), learn.model.critic(x), atol=1e-6)

def test_clip_keeps_batch_norm_unless_asked(tmp_path):
    learn = quiet_train(out=tmp_path/'c', epochs=1, penalty='clip')
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in learn.model.critic.modules())
    assert all(p.abs().max() <= 0.01 + 1e-6 for p in learn.model.critic.parameters())
    learn = quiet_train(out=tmp_path/'i', epochs=1, penalty='gp', critic_norm='instance')
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in learn.model.critic.modules())

def test_time_budget_stops_training_and_keeps_the_last_epoch(tmp_path):
    out = tmp_path/'t'
    learn = quiet_train(out=out, epochs=None, minutes=0.02, steps_per_epoch=100_000, save_every=5)
    assert learn.time_budget.expired
    log = read_log(out)
    assert len(log) == 1 and 0 < log[0]['steps'] < 100_000
    ckpt = load_checkpoint(list_checkpoints(out)[-1])
    assert ckpt['epoch'] == 1 and ckpt['options']['minutes'] == 0.02

def test_channels_last_trains_with_channels_last_weights(tmp_path):
    learn = quiet_train(out=tmp_path/'cl', epochs=1, channels_last=True)
    w = next(p for p in learn.model.generator.parameters() if p.ndim == 4)
    assert w.is_contiguous(memory_format=torch.channels_last)
    assert load_generator(tmp_path/'cl', device='cpu')(torch.randn(2, 8)).shape == (2, 3, 16, 16)

@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU error')
def test_mixed_precision_asks_for_cuda(tmp_path):
    with pytest.raises(ValueError, match='needs a CUDA device'): quiet_train(out=tmp_path/'p', precision='bf16')
    assert not (tmp_path/'p').exists()

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
def test_mixed_precision_on_cuda(tmp_path, precision):
    learn = quiet_train(out=tmp_path/precision, precision=precision, device='cuda', penalty='gp', opt='adam')
    assert next(learn.model.generator.parameters()).is_cuda
    assert torch.isfinite(sample_faces(load_generator(tmp_path/precision, device='cuda'), n=4)).all()


def test_upsample_option_trains_resumes_and_rebuilds(tmp_path):
    "`upsample` is part of the recipe: in options.json and the checkpoint, rebuilt by `load_run`, fixed on resume"
    from torch import nn
    quiet_train(out=tmp_path/'run', epochs=1, upsample='bilinear')
    assert json.loads((tmp_path/'run'/'options.json').read_text())['upsample'] == 'bilinear'
    assert any(isinstance(m, nn.Upsample) for m in load_run(tmp_path/'run', device='cpu').generator.modules())
    quiet_train(out=tmp_path/'run', epochs=2, resume=True)
    with pytest.raises(ValueError, match='upsample'): quiet_train(out=tmp_path/'run', epochs=3, resume=True, upsample='nearest')


@pytest.fixture(scope='module')
def upscaled_faces(tmp_path_factory):
    "The built-in faces as if photographed at 12x12 and upscaled to 64x64: an empty top octave, also at 32x32"
    from PIL import Image
    from wganface.faces import builtin_faces_path
    out = tmp_path_factory.mktemp('upscaled')
    for f in sorted(builtin_faces_path().glob('*.png')):
        Image.open(f).convert('RGB').resize((12, 12), Image.LANCZOS).resize((64, 64), Image.BICUBIC).save(out/f.name)
    return out

def test_blur_auto_low_passes_only_upscaled_photos(run, upscaled_faces, tmp_path):
    "`blur='auto'` turns the output filter on for photos with an empty top octave, off for the built-in faces; kept on resume"
    from wganface.models import LowPass
    from wganface.spectrum import highfreq_share
    assert json.loads((run[0]/'options.json').read_text())['blur'] == 'off'
    assert not any(isinstance(m, LowPass) for m in load_run(run[0], device='cpu').generator.modules())
    out = tmp_path/'up'
    quiet_train(data=upscaled_faces, out=out, epochs=1, size=32)
    assert json.loads((out/'options.json').read_text())['blur'] == 'on'
    assert load_checkpoint(list_checkpoints(out)[-1])['options']['blur'] == 'on'
    r = load_run(out, device='cpu')
    assert isinstance(r.generator[-1], LowPass)
    # the filter leaves the generator no way to make the top octave: under a fifth of what the unfiltered network makes
    with torch.no_grad(): unfiltered = r.generator[:-1](sample_noise(64, 8, seed=0))
    share = lambda x: float(highfreq_share(x, quantise=False).mean())
    assert share(r.generator[-1](unfiltered)) < 0.2 * share(unfiltered)
    assert torch.equal(sample_faces(r.generator, 64, seed=0), r.generator[-1](unfiltered))
    with pytest.raises(ValueError, match="blur='on'"): quiet_train(data=upscaled_faces, out=out, epochs=2, size=32, resume=True, blur='off')
    quiet_train(data=upscaled_faces, out=tmp_path/'sharp', epochs=1, size=32, blur='off')
    assert json.loads((tmp_path/'sharp'/'options.json').read_text())['blur'] == 'off'


def test_cpu_clock_budget_counts_this_process_cpu_time(tmp_path):
    import time
    t = time.process_time()
    learn = quiet_train(out=tmp_path/'run', minutes=0.01, clock='cpu', steps_per_epoch=10_000)
    assert learn.time_budget.expired and learn.time_budget.clock == 'cpu' and time.process_time() - t >= 0.6


def test_diffaug_auto_translates_every_face_only_when_faces_sit_still(run, tmp_path):
    "`diffaug='auto'` (the default) keeps where the built-in person's head sits visible on half the images, translates centred faces on all; stored resolved"
    from wganface.faces import render_face, sample_face_params
    assert json.loads((run[0]/'options.json').read_text())['diffaug'] == 'translation:0.5,cutout'
    assert run[1].model.critic.diff_augment == 'translation:0.5,cutout'
    centred = tmp_path/'centred'; centred.mkdir()
    for i, p in enumerate(sample_face_params(24, seed=3)): render_face(**{**p, 'dx': 0, 'dy': 0}).save(centred/f'{i:02d}.png')
    out = tmp_path/'still'
    learn = quiet_train(data=centred, out=out, epochs=1)
    assert learn.model.critic.diff_augment == 'translation,cutout'
    assert load_checkpoint(list_checkpoints(out)[-1])['options']['diffaug'] == 'translation,cutout'
    # resuming keeps what was decided; a policy given by name is used as it is
    assert quiet_train(data=centred, out=out, epochs=2, resume=True).model.critic.diff_augment == 'translation,cutout'
    assert quiet_train(data=centred, out=tmp_path/'own', epochs=1, diffaug='cutout').model.critic.diff_augment == 'cutout'
