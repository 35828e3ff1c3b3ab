import json, subprocess, sys
import pytest
from PIL import Image
from wganface.cli import main

TINY = ['--epochs', '2', '--steps-per-epoch', '4', '--bs', '8', '--size', '32', '--nz', '16', '--n-features', '8',
        '--no-progress', '--device', 'cpu']

def cli(*argv, capsys=None):
    code = main([str(a) for a in argv])
    out = capsys.readouterr() if capsys else None
    return code, out

def test_console_script_end_to_end(tmp_path):
    "The installed `wganface` command trains on the built-in faces, then samples from the run"
    run = tmp_path/'run'
    r = subprocess.run(['wganface', 'train', '--out', run, *TINY], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'Run folder:' in r.stdout
    assert (run/'options.json').exists() and len(list((run/'checkpoints').glob('ckpt-*.pt'))) == 1
    # the rest in this process: one start of the console script (and of fastai) is enough
    assert main(['sample', str(run), '--n', '12', '--seed', '3', '--out', str(tmp_path/'grid.png'), '--individual', str(tmp_path/'faces')]) == 0
    assert Image.open(tmp_path/'grid.png').size[0] > 32 * 3
    assert len(list((tmp_path/'faces').glob('*.png'))) == 12

def test_train_refuses_existing_run_then_resumes(tmp_path, capsys):
    run = tmp_path/'run'
    assert cli('train', '--out', run, *TINY, capsys=capsys)[0] == 0
    code, out = cli('train', '--out', run, *TINY, capsys=capsys)
    assert code == 2 and 'already holds a run' in out.err and len(out.err.strip().splitlines()) == 1
    code, out = cli('train', '--out', run, *TINY, '--resume', '--epochs', '3', capsys=capsys)
    assert code == 0, out.err
    assert [json.loads(l)['epoch'] for l in (run/'log.jsonl').read_text().splitlines()] == [1, 2, 3]
    code, out = cli('train', '--out', run, *TINY, '--overwrite', capsys=capsys)
    assert code == 0 and len((run/'log.jsonl').read_text().splitlines()) == 2

def test_train_on_a_user_folder_with_bad_files(tmp_path, capsys):
    from wganface.faces import builtin_faces_path
    data = tmp_path/'faces'; data.mkdir()
    for f in sorted(builtin_faces_path().glob('*.png'))[:5]: (data/f.name).write_bytes(f.read_bytes())
    (data/'corrupt.jpg').write_bytes(b'\xff\xd8\xff garbage')
    code, out = cli('train', data, '--out', tmp_path/'run', *TINY, capsys=capsys)
    assert code == 0, out.err
    assert 'warning: Skipped 1 of 6' in out.err and 'corrupt.jpg' in out.err
    assert 'drawn with replacement' in out.err  # 5 images, batch size 8
    assert json.loads((tmp_path/'run'/'options.json').read_text())['n_images'] == 5

@pytest.mark.parametrize('args,msg', [
    (['train', '{tmp}/missing', '--out', '{tmp}/r'], 'does not exist'),
    (['train', '{tmp}', '--out', '{tmp}/r'], 'is empty'),
    (['train', '--size', '40', '--out', '{tmp}/r'], 'power of two'),
    (['train', '--nz', '0', '--out', '{tmp}/r'], 'nz=0'),
    (['train', '--lr', '-0.1', '--out', '{tmp}/r'], 'lr=-0.1'),
    (['train', '--out', '{tmp}/r', '--resume'], 'Nothing to resume'),
    (['train', '--out', '{tmp}/r', '--penalty', 'wgan'], 'clip, gp, r1'),
    (['train', '--out', '{tmp}/r', '--lr', 'inf'], 'finite'),
    (['train', '--out', '{tmp}/r', '--leak', 'nan'], 'finite'),
    (['train', '--out', '{tmp}/r', '--device', 'foo'], "'foo' is not a device"),
    (['train', '--out', '{tmp}/r', '--minutes', '-1'], 'minutes=-1'),
    (['sample', '{tmp}'], 'No checkpoint'),
    (['sample', '{tmp}/nothing.pt'], 'does not exist'),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, msg):
    code, out = cli(*[a.format(tmp=tmp_path) for a in args], capsys=capsys)
    assert code == 2
    assert msg in out.err and len(out.err.strip().splitlines()) == 1 and 'Traceback' not in out.err

def test_truncated_checkpoint_is_a_clear_error(tmp_path, capsys):
    f = tmp_path/'ckpt.pt'; f.write_bytes(b'PK\x03\x04truncated')
    code, out = cli('sample', f, '--out', tmp_path/'g.png', capsys=capsys)
    assert code == 2 and 'not a readable wganface checkpoint' in out.err

def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as e: main(['train', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for opt in ('--out', '--epochs', '--bs', '--nz', '--noise', '--lr', '--n-crit', '--clip', '--n-features', '--seed',
                '--resume', '--overwrite', '--steps-per-epoch', '--device', '--penalty', '--minutes', '--precision',
                '--channels-last', '--critic-norm'):
        assert opt in out, opt

@pytest.mark.slow  # one full demo epoch: 300 steps at 64x64
def test_demo_writes_a_sample_grid_and_says_where(tmp_path, capsys):
    code, out = cli('demo', '--out', tmp_path/'demo', '--epochs', '1', '--no-progress', '--device', 'cpu', capsys=capsys)
    assert code == 0, out.err
    assert f"Sample grid:   {tmp_path/'demo'/'samples.png'}" in out.out
    assert Image.open(tmp_path/'demo'/'samples.png').size == (8 * 128 + 9 * 2, 8 * 128 + 9 * 2)  # 8x8 faces at 2x
    assert (tmp_path/'demo'/'reals.png').exists() and (tmp_path/'demo'/'loss.png').exists()

def test_demo_never_reuses_a_run_folder(tmp_path):
    from wganface.train import _free_run_dir
    base = tmp_path/'runs'/'demo'
    assert _free_run_dir(base) == base
    base.mkdir(parents=True)
    assert _free_run_dir(base) == tmp_path/'runs'/'demo-2'
