import pytest, torch
from torch import nn
from fastai.layers import NormType
from wganface.models import face_generator, face_critic

@pytest.mark.parametrize('size', [16, 32, 64])
def test_shapes(size):
    g, c = face_generator(size, nz=12, n_features=8), face_critic(size, n_features=8)
    x = g(torch.randn(3, 12))
    assert x.shape == (3, 3, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert c(x).shape == (3, 1)

def test_leaky_relu_everywhere():
    for m in (face_generator(n_features=8), face_critic(n_features=8)):
        acts = [a for a in m.modules() if isinstance(a, (nn.ReLU, nn.LeakyReLU))]
        assert acts and all(isinstance(a, nn.LeakyReLU) and a.negative_slope == 0.2 for a in acts)

def test_kwargs_reach_fastai():
    c = face_critic(n_features=8, norm_type=NormType.Instance)
    assert any(isinstance(m, nn.InstanceNorm2d) for m in c.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in c.modules())
    g = face_generator(n_features=8, act_cls=nn.ELU)
    assert any(isinstance(m, nn.ELU) for m in g.modules())

def test_default_width_is_fastais():
    g = face_generator()
    assert g[1][0].out_channels == 512 and sum(p.numel() for p in g.parameters()) > 4e6

@pytest.mark.parametrize('make,msg', [(lambda: face_generator(100), 'power of two'), (lambda: face_critic(8), 'power of two'),
                                      (lambda: face_generator(nz=0), 'nz=0'), (lambda: face_critic(n_features=0), 'n_features=0'),
                                      (lambda: face_generator(leak=-1), 'leak=-1')])
def test_bad_options(make, msg):
    with pytest.raises(ValueError, match=msg): make()


@pytest.mark.parametrize('upsample', ['nearest', 'bilinear'])
def test_resize_upsampling_keeps_fastais_layout_without_its_checkerboard(upsample):
    "A resize then a 3x3 convolution per doubling: the same widths, no pixel-to-pixel alternation before any training"
    torch.manual_seed(0)
    fastai_g, resize_g = face_generator(32, nz=10, n_features=8).eval(), face_generator(32, nz=10, n_features=8, upsample=upsample).eval()
    z = torch.randn(16, 10, generator=torch.Generator().manual_seed(0))
    def alternating(g):
        with torch.no_grad(): y = g(z)
        p = torch.fft.fft2(y - y.mean((-2, -1), keepdim=True)).abs().pow(2).mean((0, 1))
        return float((p[16, :].sum() + p[:, 16].sum() - p[16, 16]) / p.sum())
    assert alternating(fastai_g) > 0.2 and alternating(resize_g) < 0.01
    widths = lambda g: [m.out_channels for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert widths(resize_g) == widths(fastai_g)
    assert sum(isinstance(m, nn.Upsample) and m.mode == upsample for m in resize_g.modules()) == 3
