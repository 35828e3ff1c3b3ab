"Behaviour of wganface.realness: the critic's and an independent classifier's real-vs-generated tests."
import pytest
import torch

from wganface.metrics import load_real_faces
from wganface.models import face_critic
from wganface.realness import classifier_test, critic_test


@pytest.fixture(scope='module')
def reals(): return load_real_faces(size=32)


def test_classifier_tells_noise_from_faces(reals):
    res = classifier_test(torch.rand_like(reals) * 2 - 1, reals, epochs=4)
    assert res['accuracy'] >= 0.95 and res['auc'] >= 0.99 and res['ci95'][0] > 0.5


def test_critic_test_reports_auc_with_interval(reals):
    res = critic_test(face_critic(32, n_features=8).eval(), torch.rand_like(reals) * 2 - 1, reals)
    assert 0 <= res['ci95'][0] <= res['auc'] <= res['ci95'][1] <= 1 and res['n_real'] == 42
