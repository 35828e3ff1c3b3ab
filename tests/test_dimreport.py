"Behaviour of wganface.dimreport: dims ranked by how much they change the face, the critic's view, the files of a run's report."
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from conftest import cli, tiny_run
from wganface.dimreport import dim_report, report
from wganface.models import face_critic


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A run folder holding a checkpoint that wganface 0.1.0 wrote: 16x16 faces, 8 latent dims, and the critic"
    out = tmp_path_factory.mktemp('dimreport') / 'run'
    (out / 'checkpoints').mkdir(parents=True)
    shutil.copy(Path(__file__).parent / 'fixtures' / 'ckpt-v0.1.0-size16-nz8.pt', out / 'checkpoints' / 'ckpt-0000004.pt')
    return out


def test_dim_report_ranks_dims():
    gen = tiny_run()
    critic = face_critic(64, n_features=8)
    table, heat, faces = dim_report(gen, critic, dims='0-9', n_samples=3, bs=8)
    assert table.shape == (10, 7) and sorted(table.dim) == list(range(10))
    assert table['rank'].tolist() == list(range(1, 11))
    assert (np.diff(table.pixel_change) <= 0).all()
    assert np.allclose(heat.mean((1, 2)), table.pixel_change)
    assert heat.shape == (10, 64, 64) and faces.shape == (10, 2, 64, 64, 3)
    assert table.still_face.between(0, 1).all()
    no_critic, _, _ = dim_report(gen, None, dims='0-9', n_samples=3)
    assert no_critic.critic_change.isna().all()
    assert no_critic.dim.tolist() == table.dim.tolist()


def test_dim_report_leaves_both_networks_as_it_found_them():
    gen, critic = tiny_run(), face_critic(64, n_features=8).train()
    gen.generator.train()
    dim_report(gen, critic, dims='0-1', n_samples=2)
    assert critic.training and gen.generator.training and torch.is_grad_enabled()
    gen.generator.eval()
    dim_report(gen, critic.eval(), dims='0-1', n_samples=2)
    assert not critic.training and not gen.generator.training


def test_dim_report_finds_the_dim_that_matters():
    "A generator that ignores all but one dim: that dim ranks first and the others change nothing."
    g = tiny_run(nz=8)
    with torch.no_grad(): g.generator[1][0].weight[1:] = 0
    table, heat, _ = dim_report(g, dims='all', n_samples=2)
    assert table.dim[0] == 0 and table.pixel_change[0] > 0
    assert np.allclose(table.pixel_change[1:], 0) and np.allclose(heat[1:], 0)


def test_report_files(run, tmp_path, capsys):
    res = report(run, dims='0-7', n_samples=2, top=4, out=tmp_path / 'r.png', device='cpu')
    assert [p.name for p in res] == ['r.csv', 'r.png']
    table = pd.read_csv(res[0])
    assert table.shape == (8, 7) and table.critic_lo.notna().all()
    assert Image.open(res[1]).size[0] > 600
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 5 and printed[0].split()[:3] == ['rank', 'dim', 'pixel_change']


def test_report_default_folder_and_refusals(run, capsys):
    res = report(run, dims='2,3', n_samples=1, top=1, device='cpu')
    assert res == [run / 'explore' / 'report-dims2-3-n1-seed0-lo-3-hi3.csv', run / 'explore' / 'report-dims2-3-n1-seed0-lo-3-hi3.png']
    with pytest.raises(FileExistsError, match='already exists'): report(run, dims='2,3', n_samples=1, device='cpu')
    with pytest.raises(ValueError, match="cannot write '.txt'"): report(run, out=run / 'r.txt')
    with pytest.raises(ValueError, match='top=0 is not supported'): report(run, top=0)


def test_cli_report(run, tmp_path):
    code, text = cli('explore', 'report', run, '--dims', '0-3', '--n-samples', '2', '--out', tmp_path, '--device', 'cpu')
    assert code == 0, text
    assert f"Wrote {tmp_path / 'report-dims0-3-n2-seed0-lo-3-hi3.csv'}" in text
    assert cli('explore', 'report', run, '--dims', '9', '--out', tmp_path)[0] == 2
