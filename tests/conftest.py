import contextlib, io, warnings
import pytest, torch

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', default=False, help='also run tests marked slow')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow'): return
    skip = pytest.mark.skip(reason='slow: run with --runslow')
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)

@pytest.fixture(autouse=True)
def _quiet_and_small():
    # 2-core CI: one thread avoids oversubscription when pytest and torch compete
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', category=FutureWarning)
        yield


# --- shared builders: one copy of each, for every test file --------------------------------------------------

TINY = dict(steps_per_epoch=6, bs=8, size=16, nz=8, n_features=8, progress=False, device='cpu')

def tiny_run(size=64, nz=16, noise='normal', seed=0):
    "An untrained generator wrapped as a `Run` (no folder): what explorers and metrics take, without training"
    from wganface.models import face_generator
    from wganface.runs import as_run
    torch.manual_seed(seed)
    return as_run(face_generator(size, nz=nz, n_features=8).eval(), nz=nz, noise=noise, size=size)

def quiet_train(**kw):
    "`train` on the built-in faces with tiny defaults (`TINY`), warnings and printing silenced"
    from wganface.train import train
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter('ignore')
        return train(**{**TINY, **kw})

def cli(*args):
    "(exit status, stdout + stderr) of `wganface ARGS...`, run in this process"
    from wganface.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()

@pytest.fixture(scope='session')
def lfw_folders(tmp_path_factory):
    "(train, holdout) folders of real photos: the benchmark's set from `bench/make_real_faces.py` (needs scikit-image)"
    pytest.importorskip('skimage')
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location('make_real_faces', Path(__file__).parent.parent/'bench'/'make_real_faces.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod.write_real_faces(tmp_path_factory.mktemp('lfw'))

@pytest.fixture(scope='session')
def lfw_faces(lfw_folders):
    "(train, holdout) tensors in [-1, 1] of the real-photo set at 64x64: 42 and 58 faces"
    from wganface.metrics import load_real_faces
    return tuple(load_real_faces(f, 64) for f in lfw_folders)
