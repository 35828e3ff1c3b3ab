import pytest, torch
from wganface.augment import diff_augment, add_diff_augment, parse_policy
from wganface.models import face_critic

def test_each_policy_changes_images_but_not_shapes():
    torch.manual_seed(0)
    x = torch.rand(8, 3, 32, 32) * 2 - 1
    for policy in ('color', 'translation', 'cutout', 'color,translation,cutout'):
        y = diff_augment(x, policy)
        assert y.shape == x.shape and not torch.equal(y, x), policy
    assert torch.equal(diff_augment(x, ''), x)

def test_augmentations_are_per_image_and_reproducible():
    x = torch.zeros(16, 3, 32, 32) + 0.5
    torch.manual_seed(1); a = diff_augment(x, 'cutout')
    torch.manual_seed(1); b = diff_augment(x, 'cutout')
    assert torch.equal(a, b)
    holes = [(img == 0).all(0).nonzero().float().mean(0) for img in a]  # each image's cutout sits elsewhere
    assert len({tuple(h.round().tolist()) for h in holes}) > 1

def test_gradients_reach_the_generator_side():
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_()
    diff_augment(x).pow(2).sum().backward()
    assert x.grad.abs().sum() > 0

def test_critic_hook_only_in_training_mode():
    c = add_diff_augment(face_critic(16, n_features=8), 'translation,cutout')
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    c.eval(); assert torch.equal(c(x), c(x))
    c.train(); assert not torch.equal(c(x), c(x))
    assert set(c.state_dict()) == set(face_critic(16, n_features=8).state_dict())  # checkpoints unchanged

def test_bad_policy():
    with pytest.raises(ValueError, match='Unknown DiffAugment policy flip'): parse_policy('color,flip')
