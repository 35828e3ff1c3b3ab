"Every notebook runs top to bottom in a fresh kernel: its show-and-test cells are part of the suite"
from pathlib import Path
import pytest

NBS = sorted((Path(__file__).parent.parent/'nbs').glob('[0-9]*.ipynb')) + [Path(__file__).parent.parent/'nbs'/'index.ipynb']

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook_runs(nb, monkeypatch):
    from nbdev.test import test_nb
    monkeypatch.chdir(nb.parent)
    ok, secs = test_nb(nb, skip_flags=['notest', 'slow'], force_flags=[], do_print=False)
    assert ok, f'{nb.name} failed (run `nbdev-test {nb}` to see the cell)'
