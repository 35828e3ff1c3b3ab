"Catches what notebook tests miss: an import that only the notebook had, a console command that cannot start"
import contextlib, io, pkgutil, subprocess, sys
import pytest
import wganface
from wganface.cli import COMMANDS, main

MODULES = sorted(m.name for m in pkgutil.iter_modules(wganface.__path__) if not m.name.startswith('_'))

def test_all_modules_found():
    assert {'core', 'latents', 'runs', 'options', 'gan', 'augment', 'cli', 'data', 'evaluate', 'explore', 'faces', 'models',
            'prepare', 'render', 'train'} <= set(MODULES)

# Each module is executed afresh, alone, with every other wganface module dropped from `sys.modules` first, so a name
# that only worked because another module happened to be imported (or a notebook cell had it) fails here. The third-party
# libraries stay loaded: one process instead of one per module (fastai alone takes seconds to import on 2 cores).
FRESH_IMPORTS = '''
import importlib, sys, traceback
failed = []
for mod in sys.argv[1:]:
    for name in [n for n in sys.modules if n == 'wganface' or n.startswith('wganface.')]: del sys.modules[name]
    try: importlib.import_module('wganface.' + mod)
    except Exception: failed.append(mod + ': ' + traceback.format_exc().splitlines()[-1])
print('\\n'.join(failed))
sys.exit(1 if failed else 0)
'''

def test_every_module_imports_on_its_own():
    r = subprocess.run([sys.executable, '-c', FRESH_IMPORTS, *MODULES], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]

@pytest.mark.slow
@pytest.mark.parametrize('mod', MODULES)
def test_module_imports_in_a_fresh_process(mod):
    r = subprocess.run([sys.executable, '-c', f'import wganface.{mod}'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_version_and_help_start_without_heavy_imports():
    code = ("import sys, subprocess; from wganface.cli import main\n"
            "for a in (['--version'], ['--help'], ['explore', '--help']):\n"
            "    try: main(a)\n    except SystemExit: pass\n"
            "print(sorted(m for m in ('fastai', 'torch', 'cv2', 'pandas', 'matplotlib') if m in sys.modules))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == '[]', r.stdout + r.stderr

def test_console_script_starts():
    r = subprocess.run(['wganface', '--version'], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f'wganface {wganface.__version__}', r.stderr

COMMAND_PATHS = [[name] if not isinstance(c, dict) else [name, sub] for name, c in COMMANDS.items() for sub in (c if isinstance(c, dict) else [None])]

@pytest.mark.parametrize('cmd', [[], ['explore']] + COMMAND_PATHS, ids=lambda c: ' '.join(c) or 'wganface')
def test_console_help(cmd):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e: main([*cmd, '--help'])
    assert e.value.code == 0 and 'usage: wganface' in out.getvalue()
