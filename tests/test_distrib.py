"Two CPU processes (gloo) train a tiny WGAN through `distrib_context`: one model in the end, written by rank 0 only"
import json, os, signal, socket, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).parent.parent

# Each rank starts from its own random weights, so equal weights at the end prove that DDP broadcast rank 0's and
# then kept both networks in step. Both ranks then share one random stream, as in `train`, so different batches prove
# that each rank draws its own. Each rank also gets its own run folder: only rank 0's may receive files.
CHILD = textwrap.dedent('''
    import json, sys, warnings
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    warnings.simplefilter('ignore')
    from fastai.callback.core import Callback
    from fastai.torch_core import set_seed, rank_distrib
    from wganface.data import face_dls
    from wganface.latents import sample_noise
    from wganface.models import face_generator, face_critic
    from wganface.gan import wgan_learner, GeneratorEMA
    from wganface.options import TrainOptions
    from wganface.train import RunFolder
    from wganface.distrib import distrib_device, distrib_context, on_rank0, is_distributed

    class FirstBatches(Callback):
        "What each rank trains on: the sums of its first batches"
        order = 99
        def before_fit(self): self.sums = []
        def before_batch(self):
            if len(self.sums) < 3: self.sums.append([float(self.xb[0].sum()), float(self.yb[0].sum())])

    out, rank = Path(sys.argv[1]), rank_distrib()
    device = distrib_device('cpu')
    run = out/f'run-rank{rank}'
    run.mkdir()
    set_seed(rank)  # different initial weights on each rank...
    gen, crit = face_generator(16, nz=8, n_features=8), face_critic(16, n_features=8)
    set_seed(0)  # ...but the same random stream from here, as in `train`
    dls = face_dls(bs=8, nz=8, size=16, steps_per_epoch=10, device=device)
    init = {k: v.clone() for k, v in {**gen.state_dict(prefix='generator.'), **crit.state_dict(prefix='critic.')}.items()}
    opts = TrainOptions(size=16, nz=8, n_features=8, save_every=1, keep=0)
    run_cb = RunFolder(run, opts, sample_noise(4, 8, seed=0))
    learn = wgan_learner(dls, gen, crit, n_crit=2, lr=1e-3, cbs=[run_cb, GeneratorEMA(0.5), FirstBatches()])
    with distrib_context(learn, rank0_only=[RunFolder]):
        with learn.no_bar(), learn.no_logging(): learn.fit(2)
    final = {**gen.state_dict(prefix='generator.'), **crit.state_dict(prefix='critic.')}
    ema = dict(learn.generator_ema.ema.named_parameters())  # its batch-norm statistics are copied from each rank's own
    torch.save(dict(init=init, final=final, ema=ema), out/f'state-rank{rank}.pt')
    import wganface.train
    integrated = hasattr(wganface.train, 'distrib_context')  # once `train` calls it, check `train` itself too
    if integrated:
        tl = wganface.train.train(out=out/'train-run', epochs=2, steps_per_epoch=6, bs=8, size=16, nz=8, n_features=8,
                                  save_every=1, progress=False, device=device)
        torch.save({**tl.model.generator.state_dict(prefix='generator.'), **tl.model.critic.state_dict(prefix='critic.')},
                   out/f'train-rank{rank}.pt')
        # on a time budget the annealed rate follows the clock, which each rank reads a little differently
        tl = wganface.train.train(out=out/'timed-run', minutes=0.03, lr_anneal=1., steps_per_epoch=6, bs=8, size=16, nz=8,
                                  n_features=8, save_every=1000, progress=False, device=device)
        torch.save({**tl.model.generator.state_dict(prefix='generator.'), **tl.model.critic.state_dict(prefix='critic.')},
                   out/f'timed-rank{rank}.pt')
    (out/f'result-rank{rank}.json').write_text(json.dumps(dict(
        rank=rank, distributed=is_distributed(), steps=learn.step_switcher.state(), batches=learn.first_batches.sums,
        has_run_cb=any(isinstance(cb, RunFolder) for cb in learn.cbs), integrated=integrated)))
''')

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('distrib')
    script = out/'child.py'
    script.write_text(CHILD)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MASTER_ADDR': '127.0.0.1',
           'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(free_port()), str(script), str(out)]
    # its own session, so that a hang (a rank waiting forever in a collective) kills the launcher and both ranks
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try: log, _ = p.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        log, _ = p.communicate()
        pytest.fail(f'2-process run timed out:\n{log[-3000:]}')
    assert p.returncode == 0, log[-3000:]
    res = [json.loads((out/f'result-rank{r}.json').read_text()) for r in range(2)]
    states = [torch.load(out/f'state-rank{r}.pt', weights_only=True) for r in range(2)]
    return out, res, states

def test_both_ranks_trained(two_ranks):
    _, res, _ = two_ranks
    assert [r['rank'] for r in res] == [0, 1] and all(r['distributed'] for r in res)
    # 2 epochs of 10 steps shared by 2 ranks: 10 optimiser steps each, critic:generator 2:1
    assert all(r['steps'] == dict(gen_turn=False, count=1, crit_steps=7, gen_steps=3) for r in res)

def test_ranks_draw_different_batches(two_ranks):
    _, res, _ = two_ranks
    assert res[0]['batches'] != res[1]['batches']

def test_weights_identical_across_ranks_and_trained(two_ranks):
    _, _, (s0, s1) = two_ranks
    assert any(not torch.equal(s0['init'][k], s1['init'][k]) for k in s0['init'])  # the ranks did start apart
    for part in ('final', 'ema'):
        assert s0[part].keys() == s1[part].keys()
        for k in s0[part]: assert torch.equal(s0[part][k], s1[part][k]), f'{part} {k} differs between ranks'
    for net in ('generator.', 'critic.'):
        moved = [k for k, v in s0['final'].items() if k.startswith(net) and v.is_floating_point() and not torch.equal(v, s0['init'][k])]
        assert moved, f'{net[:-1]} did not change'

def test_only_rank0_writes(two_ranks):
    out, res, s = two_ranks
    assert [r['has_run_cb'] for r in res] == [True, True]  # rank 1's writer is back after training
    assert list((out/'run-rank1').iterdir()) == []
    run = out/'run-rank0'
    assert [json.loads(l)['epoch'] for l in (run/'log.jsonl').read_text().splitlines()] == [1, 2]
    assert sorted(p.name for p in (run/'fakes').iterdir()) == ['epoch-0001.png', 'epoch-0002.png']
    ckpt = torch.load(sorted((run/'checkpoints').iterdir())[-1], weights_only=True)
    for k, v in ckpt['critic'].items(): assert torch.equal(v, s[0]['final']['critic.' + k])

def test_train_runs_distributed(two_ranks):
    out, res, _ = two_ranks
    assert res[0]['integrated']
    log = [json.loads(l) for l in (out/'train-run'/'log.jsonl').read_text().splitlines()]
    assert [r['epoch'] for r in log] == [1, 2] and [r['steps'] for r in log] == [3, 6]  # one writer; 6 steps shared by 2
    s0, s1 = (torch.load(out/f'train-rank{r}.pt', weights_only=True) for r in range(2))
    for k in s0: assert torch.equal(s0[k], s1[k]), f'{k} differs between ranks'

def test_annealed_rate_on_a_time_budget_keeps_ranks_identical(two_ranks):
    out, res, _ = two_ranks
    assert res[0]['integrated']
    s0, s1 = (torch.load(out/f'timed-rank{r}.pt', weights_only=True) for r in range(2))
    for k in s0: assert torch.equal(s0[k], s1[k]), f'{k} differs between ranks'
