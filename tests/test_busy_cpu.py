"A training loop that survives a busy CPU: the thread count chosen from idle cores, `--threads` on every command, the speed guard."
import time, warnings
import pytest, torch
from fastai.callback.core import Callback

from conftest import cli, quiet_train
from wganface.core import THREADS, idle_cores, resolve_threads, set_threads
from wganface.gan import SlowTrainingWarning, SpeedGuard


@pytest.fixture
def keep_threads():
    "Put torch's thread count back as it was"
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_default_threads_come_from_idle_cores(keep_threads):
    import os
    cores = len(os.sched_getaffinity(0))
    assert 0 <= idle_cores(0.05) <= cores + 0.01
    assert 1 <= resolve_threads() <= cores and resolve_threads(3) == 3
    with pytest.raises(ValueError, match='threads=0'): resolve_threads(0)


def test_a_spinning_neighbour_takes_a_core_off_the_default(keep_threads):
    "Beside a process spinning on one of our cores, that core no longer counts as idle"
    import os, subprocess, sys
    mine = sorted(os.sched_getaffinity(0))
    spin = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    try:
        os.sched_setaffinity(spin.pid, mine[:1])
        time.sleep(0.3)
        assert idle_cores(0.3) < len(mine) - 0.5
    finally: spin.kill(); spin.wait()


@pytest.mark.parametrize('given', [None, 1])
def test_every_command_takes_threads(given, keep_threads, tmp_path):
    code, out = cli('sample', tmp_path, *(['--threads', given] if given else []))
    assert code == 2 and 'No checkpoint' in out  # the command ran (and failed on its input) after the threads were set
    assert THREADS['auto'] == (given is None) and torch.get_num_threads() == THREADS['n']


class BusyNeighbour(Callback):
    "From the 30th training batch on, each batch takes four times as long: another program took the CPU"
    order = 50
    def before_fit(self): self.k, self.t0 = 0, time.perf_counter()
    def after_batch(self):
        self.k += 1
        if self.k == 30: self.dt = (time.perf_counter() - self.t0) / 30
        if self.k > 30: time.sleep(3 * self.dt)


def test_training_warns_when_it_slows_down_and_steps_down_to_one_thread(tmp_path, keep_threads):
    guard = SpeedGuard(window=0.05, adapt=True)
    from conftest import TINY
    from wganface.train import train
    with warnings.catch_warnings(record=True) as caught:  # not `quiet_train`: it silences warnings
        warnings.simplefilter('always')
        train(out=tmp_path/'run', **{**TINY, 'steps_per_epoch': 60}, epochs=1, cbs=[guard, BusyNeighbour()])
    slow = [str(w.message) for w in caught if issubclass(w.category, SlowTrainingWarning)]
    assert len(slow) == 1 and 'another program is using the CPU' in slow[0] and guard.events


def test_train_adds_the_guard_and_adapts_only_a_chosen_thread_count(tmp_path, keep_threads):
    set_threads(1)
    learn = quiet_train(out=tmp_path/'given', epochs=1)
    assert learn.speed_guard.adapt is False
    THREADS.update(auto=True)
    learn = quiet_train(out=tmp_path/'chosen', epochs=1)
    assert learn.speed_guard.adapt is True
