"Never lose a good model: divergence, one training per folder, exact resume, fallback, and one-line errors for every bad input"
import json, os, pickle, signal, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np
import pytest, torch
from fastai.callback.core import Callback
from PIL import Image
from conftest import TINY, cli, quiet_train
from wganface.faces import builtin_faces_path
from wganface.gan import Diverged
from wganface.runs import (CheckpointError, RunWarning, list_checkpoints, load_checkpoint, load_run, read_log)

ROOT = Path(__file__).parent.parent

class PoisonAt(Callback):
    "Turn the critic's loss into NaN once `step` training steps have passed (a run that diverges midway)"
    order = 98  # after the penalty has added its part, before the divergence guard looks
    def __init__(self, step): self.step = step
    def after_loss(self):
        if self.training and self.step_switcher.steps >= self.step and not self.gan_trainer.gen_mode:
            self.learn.loss_grad = self.learn.loss_grad * float('nan')

def weights(learn):
    return {**learn.model.generator.state_dict(prefix='g.'), **learn.model.critic.state_dict(prefix='c.'),
            **learn.generator_ema.ema.state_dict(prefix='ema.')}

# --- divergence -----------------------------------------------------------------------------------------------------

def test_nan_midway_stops_at_once_and_keeps_the_good_checkpoints(tmp_path):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=3, save_every=1, keep=2)
    good = list_checkpoints(out)
    with pytest.raises(Diverged) as e: quiet_train(out=out, epochs=8, resume=True, cbs=[PoisonAt(22)])
    msg = str(e.value)
    assert 'diverged in epoch 4, step 23' in msg and f'last good checkpoint is {good[-1]}' in msg and '--lr' in msg, msg
    assert list_checkpoints(out) == good  # the rotation removed nothing, and nothing broken was written
    assert all(torch.isfinite(v).all() for v in load_checkpoint(good[-1])['generator'].values())
    assert [r['epoch'] for r in read_log(out)] == [1, 2, 3]
    [json.loads(l) for l in (out/'log.jsonl').read_text().splitlines()]  # still valid JSON
    assert load_run(out).epoch == 3

def test_a_learning_rate_that_explodes_is_exit_3_and_one_line(tmp_path):
    code, out = cli('train', '--out', tmp_path/'n', '--lr', '1e3', '--n-features', '8',
                    '--steps-per-epoch', '20', '--epochs', '8', '--save-every', '1', '--no-progress', '--device', 'cpu')
    assert code == 3, out
    err = [l for l in out.splitlines() if 'error' in l]
    assert len(err) == 1 and 'diverged in epoch 1' in err[0] and 'Lower the learning rate' in err[0] and 'Exception occured' not in out, out
    assert all(torch.isfinite(v).all() for f in list_checkpoints(tmp_path/'n') for v in load_checkpoint(f)['generator'].values())

def test_nan_checkpoints_are_refused_and_the_last_good_one_used(tmp_path):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=2, save_every=1)
    first, newest = list_checkpoints(out)
    ckpt = load_checkpoint(newest)
    ckpt['generator_ema'] = {k: v * float('nan') if v.is_floating_point() else v for k, v in ckpt['generator_ema'].items()}
    torch.save(ckpt, newest)
    with pytest.warns(RunWarning, match=f'skipped 1 unusable checkpoint.*{newest.name}.*NaN.*using {first.name}'): r = load_run(out)
    assert r.checkpoint == first
    code, msg = cli('sample', newest, '--out', tmp_path/'g.png')
    assert code == 2 and 'NaN or infinite weights' in msg and first.name in msg and not (tmp_path/'g.png').exists()
    code, msg = cli('sample', out, '--out', tmp_path/'g.png', '--n', '4')
    assert code == 0 and f'using {first.name}' in msg

def test_unreadable_newest_checkpoint_falls_back(tmp_path):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=2, save_every=1)
    first, newest = list_checkpoints(out)
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated
    with pytest.warns(RunWarning, match='truncated'): assert load_run(out).checkpoint == first
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        learn = quiet_train(out=out, epochs=3, resume=True)  # resumes from the good one
    assert [r['epoch'] for r in read_log(out)] == [1, 2, 3] and learn.step_switcher.steps == 18

# --- one training per folder ----------------------------------------------------------------------------------------

TRAIN = ['wganface', 'train', '--n-features', '8', '--size', '16', '--nz', '8', '--bs', '8',
         '--no-progress', '--device', 'cpu']

def start(*args):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    return subprocess.Popen([*TRAIN, *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def test_a_second_training_into_the_same_folder_refuses(tmp_path):
    out = tmp_path/'run'
    first = start('--out', out, '--epochs', '1', '--steps-per-epoch', '200')
    try:
        t = time.time()
        while not (out/'.lock').exists() and time.time() - t < 60: time.sleep(0.1)
        for extra in ([], ['--resume'], ['--overwrite']):
            code, msg = cli('train', '--out', out, *extra, '--epochs', '1', '--steps-per-epoch', '4', '--device', 'cpu', '--no-progress')
            assert code == 2 and 'is in use by another training (pid' in msg, (extra, msg)
    finally: first.communicate(timeout=120)
    assert first.returncode == 0
    assert [r['epoch'] for r in read_log(out)] == [1] and not (out/'.lock').exists()

def test_two_trainings_started_together_one_wins(tmp_path):
    out = tmp_path/'race'
    procs = [start('--out', out, '--epochs', '2', '--steps-per-epoch', '6', '--seed', s) for s in (1, 2)]
    results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 2], results
    loser = next(err for c, err in results if c == 2)
    assert 'is in use by another training' in loser or 'already holds a run' in loser, loser
    winner_seed = 1 if results[0][0] == 0 else 2
    assert json.loads((out/'options.json').read_text())['seed'] == winner_seed
    assert [r['epoch'] for r in read_log(out)] == [1, 2]
    assert {load_checkpoint(f)['options']['seed'] for f in list_checkpoints(out)} == {winner_seed}

# --- exact resume -----------------------------------------------------------------------------------------------------

def test_two_epochs_then_two_more_equals_four_straight(tmp_path):
    # the ramp-up counts steps across the resume; a constant rate, because a run planned for 2 epochs anneals its rate
    # within them, so extending it is not 4 planned epochs (an interrupted run is: the next test)
    kw = dict(penalty='r1', penalty_every=3, ema=0.99, ema_rampup=0.2, diffaug='color,translation', save_every=2, lr_anneal=0)
    straight = quiet_train(out=tmp_path/'a', epochs=4, **kw)
    quiet_train(out=tmp_path/'b', epochs=2, **kw)
    resumed = quiet_train(out=tmp_path/'b', epochs=4, resume=True)
    a, b = weights(straight), weights(resumed)
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a), [k for k in a if not torch.allclose(a[k].float(), b[k].float(), atol=1e-6)][:5]
    la, lb = read_log(tmp_path/'a'), read_log(tmp_path/'b')
    assert [r['crit_loss'] for r in la] == pytest.approx([r['crit_loss'] for r in lb], rel=1e-5)

def test_interrupted_annealed_run_resumes_exactly(tmp_path):
    from fastai.callback.core import Callback, CancelFitException
    class StopAfter2(Callback):
        order = 80  # after `RunFolder` (70) has written epoch 2's checkpoint
        def after_epoch(self):
            if self.epoch == 1: raise CancelFitException()
    # planned for 4 epochs, the rate annealed over the last half: stopped after 2 and resumed, the rate still follows the 4-epoch plan
    kw = dict(epochs=4, save_every=2, lr_anneal=0.5)
    straight = quiet_train(out=tmp_path/'a', **kw)
    quiet_train(out=tmp_path/'b', cbs=StopAfter2(), **kw)
    assert [r['epoch'] for r in read_log(tmp_path/'b')] == [1, 2]
    resumed = quiet_train(out=tmp_path/'b', epochs=4, resume=True)
    a, b = weights(straight), weights(resumed)
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a), [k for k in a if not torch.allclose(a[k].float(), b[k].float(), atol=1e-6)][:5]

def test_resume_cuts_the_log_back_to_its_checkpoint(tmp_path):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=2, save_every=1)
    # killed after epoch 3's log line and grid, before its checkpoint
    with open(out/'log.jsonl', 'a') as f: f.write(json.dumps(dict(epoch=3, steps=18)) + '\n')
    (out/'fakes'/'epoch-0003.png').write_bytes(b'')
    (out/'checkpoints'/'.ckpt-0000018.0123abcd.partial.pt').write_bytes(b'half a checkpoint')
    quiet_train(out=out, epochs=4, resume=True)
    assert [r['epoch'] for r in read_log(out)] == [1, 2, 3, 4]
    assert not list((out/'checkpoints').glob('.*partial*'))

def test_resume_refuses_a_changed_recipe_unless_asked(tmp_path):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=1)
    with pytest.raises(ValueError, match=r"trained with lr=0.001, not 0.0001. To change it, pass --change lr=0.0001"):
        quiet_train(out=out, epochs=2, resume=True, lr=1e-4)
    with pytest.raises(ValueError, match='cannot change that'): quiet_train(out=out, epochs=2, resume=True, change='n_features=16')
    learn = quiet_train(out=out, epochs=2, resume=True, change='lr=1e-4')
    assert learn.opt.hypers[0]['lr'] == 1e-4
    o = json.loads((out/'options.json').read_text())
    assert o['lr'] == 1e-4 and o['resumes'][-1]['change'] == 'lr=1e-4' and o['resumes'][-1]['epoch'] == 1
    code, msg = cli('train', '--out', out, '--resume', '--epochs', '3', '--bs', '4', '--device', 'cpu', '--no-progress')
    assert code == 2 and '--change bs=4' in msg

def test_resume_finds_moved_data_and_checks_it_is_the_same(tmp_path):
    data = tmp_path/'faces'; data.mkdir()
    for f in sorted(builtin_faces_path().glob('*.png'))[:10]: (data/f.name).write_bytes(f.read_bytes())
    out = tmp_path/'run'
    quiet_train(data=data, out=out, epochs=1)
    data.rename(tmp_path/'moved')
    with pytest.raises(FileNotFoundError, match="which is gone: pass the folder's new place as DATA"): quiet_train(out=out, epochs=2, resume=True)
    quiet_train(data=tmp_path/'moved', out=out, epochs=2, resume=True)
    assert load_checkpoint(list_checkpoints(out)[-1])['options']['data'] == str((tmp_path/'moved').resolve())
    other = tmp_path/'other'; other.mkdir()
    for f in sorted(builtin_faces_path().glob('*.png'))[10:20]: (other/f.name).write_bytes(f.read_bytes())
    with pytest.raises(ValueError, match='does not hold the images this run trained on'): quiet_train(data=other, out=out, epochs=3, resume=True)

def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path):
    class CtrlC(Callback):
        def after_batch(self):
            if self.step_switcher.steps == 9: raise KeyboardInterrupt
    out = tmp_path/'run'
    with pytest.raises(KeyboardInterrupt): quiet_train(out=out, epochs=3, save_every=5, cbs=[CtrlC()])
    ckpt = load_checkpoint(list_checkpoints(out)[-1])
    assert ckpt['epoch'] == 1 and sum(ckpt['switcher'][k] for k in ('crit_steps', 'gen_steps')) == 9
    quiet_train(out=out, epochs=3, resume=True)
    assert [r['epoch'] for r in read_log(out)] == [1, 2, 3]

# --- bounded run folders ------------------------------------------------------------------------------------------

def test_fakes_are_thinned_to_keep_fakes(tmp_path):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=7, steps_per_epoch=2, keep_fakes=3)
    assert sorted(p.name for p in (out/'fakes').iterdir()) == ['epoch-0001.png', 'epoch-0004.png', 'epoch-0007.png']

# --- one-line errors ----------------------------------------------------------------------------------------------

def test_disk_full_while_writing_a_checkpoint(tmp_path, monkeypatch):
    out = tmp_path/'run'
    quiet_train(out=out, epochs=1)
    good = list_checkpoints(out)
    import wganface.runs
    real_save = torch.save
    def full_disk(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        raise RuntimeError('[enforce fail at inline_container.cc:603] . PytorchStreamWriter failed writing file data/3: file write failed')
    monkeypatch.setattr(wganface.runs.torch, 'save', full_disk)
    with pytest.raises(OSError, match='is the disk full'): quiet_train(out=out, epochs=2, resume=True)
    monkeypatch.undo()
    assert list_checkpoints(out) == good and not list(out.rglob('.*partial*'))
    code, msg = cli('sample', out, '--out', tmp_path/'g.png', '--n', '4')
    assert code == 0, msg

def test_a_crafted_pickle_never_runs(tmp_path):
    marker = tmp_path/'pwned'
    class Evil:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    f = tmp_path/'ckpt.pt'
    torch.save(dict(format='wganface-checkpoint', options={}, generator=Evil()), f)
    with pytest.raises(CheckpointError): load_checkpoint(f)
    code, msg = cli('sample', f, '--out', tmp_path/'g.png')
    assert code == 2 and not marker.exists()
    with open(f, 'wb') as fh: pickle.dump(Evil(), fh)
    assert cli('sample', f, '--out', tmp_path/'g.png')[0] == 2 and not marker.exists()

def crafted(tmp_path, name, **changes):
    "A copy of the 0.1.0 fixture checkpoint with some parts changed"
    ckpt = load_checkpoint(ROOT/'tests'/'fixtures'/'ckpt-v0.1.0-size16-nz8.pt')
    for k, v in changes.items():
        if k == 'options_update': ckpt['options'].update(v)
        elif v is None: ckpt.pop(k)
        else: ckpt[k] = v
    torch.save(ckpt, tmp_path/name)
    return tmp_path/name

@pytest.mark.parametrize('changes, msg', [
    (dict(options=None), 'damaged: it has no options'),
    (dict(options_update=dict(nz=32)), 'do not fit its options (size=16, nz=32'),
    (dict(options_update=dict(size=2**20, n_features=2**14)), 'impossibly large networks'),  # would need terabytes if built
    (dict(options_update=dict(n_features=2**10)), 'do not fit its options'),
    (dict(options_update=dict(size=48)), 'cannot use: size=48'),
])
def test_damaged_or_altered_checkpoints_are_one_line(tmp_path, changes, msg):
    f = crafted(tmp_path, 'ckpt.pt', **changes)
    t = time.time()
    code, out = cli('sample', f, '--out', tmp_path/'g.png')
    assert code == 2 and msg in out and len(out.strip().splitlines()) == 1 and time.time() - t < 20, out

@pytest.mark.parametrize('args, msg', [
    (['train', '--bs', '100000'], 'needs about'),
    (['train', '--nz', '100000000'], 'needs about'),
    (['train', '--device', 'cuda'] if not torch.cuda.is_available() else ['train', '--device', 'foo'], 'is available here' if not torch.cuda.is_available() else 'not a device'),
    (['train', '--leak', 'nan'], 'finite'),
    (['train', '--lr', 'inf'], 'finite'),
    (['train', '--change', 'lr=1'], '--change is for --resume'),
])
def test_impossible_settings_are_refused_before_any_work(tmp_path, args, msg):
    code, out = cli(*args, '--out', tmp_path/'r')
    assert code == 2 and msg in out and len(out.strip().splitlines()) == 1, out
    assert not (tmp_path/'r').exists()

def test_out_must_not_be_the_data_folder(tmp_path):
    data = tmp_path/'faces'; data.mkdir()
    for f in sorted(builtin_faces_path().glob('*.png'))[:4]: (data/f.name).write_bytes(f.read_bytes())
    code, out = cli('train', data, '--out', data)
    assert code == 2 and 'is the image folder itself' in out and sorted(p.name for p in data.iterdir())[-1] == 'face_003.png'

def test_a_run_killed_before_its_first_checkpoint_says_overwrite(tmp_path):
    out = tmp_path/'run'; out.mkdir()
    (out/'options.json').write_text('{}')
    code, msg = cli('train', '--out', out)
    assert code == 2 and 'stopped before its first checkpoint' in msg and '--overwrite' in msg and '--resume' not in msg

def test_an_image_too_large_to_open_is_skipped(tmp_path, monkeypatch):
    data = tmp_path/'faces'; data.mkdir()
    for f in sorted(builtin_faces_path().glob('*.png'))[:4]: (data/f.name).write_bytes(f.read_bytes())
    Image.new('RGB', (200, 200)).save(data/'huge.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 10_000)  # 200x200 is then over twice the limit, as a 400-megapixel file is
    from wganface.data import load_face_folder
    with pytest.warns(UserWarning, match='huge.png'):
        imgs, files, skipped = load_face_folder(data, 16)
    assert len(imgs) == 4 and 'too large' in skipped[0][1]

@pytest.mark.slow
def test_twenty_kills_lose_at_most_one_interval_each(tmp_path):
    "SIGKILL at random moments, some inside checkpoint writes, then resume: no checkpoint is ever corrupt, no epoch logged twice"
    out, rng = tmp_path/'run', np.random.default_rng(0)
    slow_saves = tmp_path/'slow_saves.py'  # checkpoint writes slowed down, so that kills land inside them too
    slow_saves.write_text("import time, torch, runpy, sys\nreal = torch.save\n"
                          "def save(*a, **k): real(*a, **k); time.sleep(0.3)\ntorch.save = save\n"
                          "from wganface.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    args = ['--out', out, '--epochs', '400', '--steps-per-epoch', '5', '--save-every', '1', '--n-features', '8', '--size', '16',
            '--nz', '8', '--bs', '8', '--no-progress', '--device', 'cpu']
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    kills, lost = 0, []
    for i in range(20):
        before = load_run(out, critic=False).epoch if list_checkpoints(out) else 0
        again = ['--resume'] if list_checkpoints(out) else ['--overwrite'] if out.exists() else []
        p = subprocess.Popen([sys.executable, slow_saves, 'train', *map(str, args), *again], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        logged, t = len(read_log(out)), time.time()
        while len(read_log(out)) == logged and p.poll() is None and time.time() - t < 180: time.sleep(0.1)  # training is under way
        time.sleep(rng.uniform(0, 2.5))  # then anywhere in an epoch or a checkpoint write (each takes 0.3 s more here)
        assert p.poll() is None, p.stderr.read()
        p.send_signal(signal.SIGKILL); p.wait(); kills += 1
        for f in list_checkpoints(out): load_checkpoint(f)  # never corrupt
        after = load_run(out, critic=False).epoch
        lost.append(len(read_log(out)) - after)
        assert after >= before
    print(f'{kills} kills, checkpoints read after each: all good; epochs logged beyond the newest checkpoint at each kill: {lost}')
    assert kills == 20 and max(lost) <= 1, lost
    p = subprocess.run([*TRAIN, *map(str, args[:2]), '--resume', '--epochs', str(load_run(out).epoch + 1), *map(str, args[6:])],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    epochs = [r['epoch'] for r in read_log(out)]
    assert epochs == list(range(1, len(epochs) + 1))

def test_a_grid_too_large_for_memory_is_refused(tmp_path):
    f = ROOT/'tests'/'fixtures'/'ckpt-v0.1.0-size16-nz8.pt'
    code, out = cli('sample', f, '--n', '2000000000', '--out', tmp_path/'g.png')
    assert code == 2 and 'ask for fewer faces' in out and not (tmp_path/'g.png').exists(), out

def test_evaluate_refuses_a_critic_of_another_size(tmp_path):
    run = tmp_path/'r32'
    quiet_train(out=run, epochs=1, size=32)
    code, out = cli('evaluate', run, '--critic', ROOT/'tests'/'fixtures'/'ckpt-v0.1.0-size16-nz8.pt', '--n', '20',
                    '--classifier-epochs', '0', '--device', 'cpu')
    assert code == 2 and 'judges 16x16 faces, but this generator makes 32x32' in out, out

def test_prepare_overwrite_keeps_the_users_own_files(tmp_path):
    import matplotlib.cbook
    photos = tmp_path/'photos'; photos.mkdir()
    Image.open(matplotlib.cbook.get_sample_data('grace_hopper.jpg')).save(photos/'grace.jpg')
    out = tmp_path/'faces'
    assert cli('prepare', photos, out, '--no-progress')[0] == 0
    Image.new('RGB', (8, 8)).save(out/'my-own.png')
    code, msg = cli('prepare', photos, out, '--overwrite', '--no-progress')
    assert code == 0, msg
    assert (out/'my-own.png').exists() and (out/'grace.png').exists()
