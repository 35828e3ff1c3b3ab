"Catches what notebook tests miss: an import that only the notebook had, a console command that cannot start"
import pkgutil, subprocess, sys
import pytest
import wganface

MODULES = sorted(m.name for m in pkgutil.iter_modules(wganface.__path__) if not m.name.startswith('_'))

def test_all_modules_found():
    assert {'augment', 'cli', 'data', 'evaluate', 'explore', 'faces', 'models', 'prepare', 'render', 'train'} <= set(MODULES)

@pytest.mark.parametrize('mod', MODULES)
def test_module_imports_in_a_fresh_process(mod):
    r = subprocess.run([sys.executable, '-c', f'import wganface.{mod}'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_import_does_not_touch_cuda():
    "The device is chosen at call time: importing must not initialise CUDA"
    code = 'import torch, wganface.train, wganface.cli; print(torch.cuda.is_initialized())'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == 'False', r.stderr

@pytest.mark.parametrize('cmd', [[], ['train'], ['sample'], ['demo'], ['prepare'], ['evaluate'], ['explore'], ['explore', 'sweep']])
def test_console_help(cmd):
    r = subprocess.run(['wganface', *cmd, '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'usage: wganface' in r.stdout, r.stderr
