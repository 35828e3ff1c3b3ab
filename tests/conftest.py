import warnings
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
