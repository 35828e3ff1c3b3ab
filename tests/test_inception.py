"Behaviour of wganface.inception: feature networks from local files only, and KID/FID from their features."
import warnings

import pytest
import torch
from torch import nn

from wganface.inception import extract_features, kid_fid, load_inception
from wganface.metrics import load_real_faces


def toy_extractor(path):
    "A small random network saved as TorchScript, standing in for Inception (test_evaluate uses it too)"
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()).eval()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        torch.jit.trace(net, torch.rand(2, 3, 32, 32)).save(path)
    return path


def test_kid_of_identical_sets_is_about_zero(tmp_path):
    reals = load_real_faces(size=32)
    net = load_inception(toy_extractor(tmp_path / 'toy.pt'))
    f = extract_features(net, reals)
    same, noise = kid_fid(f, f), kid_fid(extract_features(net, torch.rand_like(reals) * 2 - 1), f)
    assert abs(same['kid']) < 0.05 * noise['kid'] and abs(same['fid']) < 1e-6 * noise['fid']


def test_load_inception_from_a_torchvision_state_dict(tmp_path):
    from torchvision.models.inception import Inception3
    torch.manual_seed(0)
    torch.save(Inception3(num_classes=1008, aux_logits=False, init_weights=False).state_dict(), tmp_path / 'pt_inception.pth')
    net = load_inception(tmp_path / 'pt_inception.pth')
    assert extract_features(net, torch.rand(2, 3, 32, 32) * 2 - 1).shape == (2, 2048)


def test_load_inception_refuses_other_files(tmp_path):
    with pytest.raises(FileNotFoundError): load_inception(tmp_path / 'missing.pt')
    torch.save({'weight': torch.zeros(3)}, tmp_path / 'other.pth')
    with pytest.raises(ValueError, match='inception_v3'): load_inception(tmp_path / 'other.pth')
