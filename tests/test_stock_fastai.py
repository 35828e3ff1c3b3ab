"""The four ways stock fastai 2.8.12 breaks a WGAN on a tiny face set, and proof that wganface does not.

Each check runs twice: on the stock recipe (where it must detect the failure, so the check can fail) and on
wganface's learner (where it must pass)."""
import warnings
import pytest, torch
from fastai.data.block import DataBlock, TransformBlock
from fastai.data.transforms import IndexSplitter, Normalize
from fastai.optimizer import Adam, RMSProp
from fastai.torch_core import set_seed
from fastai.vision.data import ImageBlock
from fastai.vision.gan import GANLearner, FixedGANSwitcher, generate_noise
from fastai.callback.core import Callback
from wganface.data import face_dls, load_face_folder
from wganface.faces import builtin_faces_path
from wganface.models import face_generator, face_critic
from wganface.gan import wgan_learner
from wganface.runs import save_checkpoint

NZ, SIZE = 16, 16

def stock_dls(bs, n_images=None):
    "fastai's GAN tutorial DataBlock over the built-in faces"
    imgs, _, _ = load_face_folder(builtin_faces_path(), SIZE)
    imgs = list(imgs[:n_images] if n_images else imgs)
    dblock = DataBlock(blocks=(TransformBlock, ImageBlock), get_x=lambda _: generate_noise(None, size=NZ),
                       splitter=IndexSplitter([]),
                       batch_tfms=Normalize.from_stats(torch.tensor([0.5] * 3), torch.tensor([0.5] * 3)))
    return dblock.dataloaders(imgs, bs=bs, num_workers=0, device='cpu')

def models():
    return face_generator(SIZE, nz=NZ, n_features=8), face_critic(SIZE, n_features=8)

def make_learner(kind, bs=64, steps=1, opt_func=RMSProp, cbs=None):
    set_seed(0)
    g, c = models()
    if kind == 'stock':
        return GANLearner.wgan(stock_dls(bs), g, c, opt_func=opt_func, cbs=cbs)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        dls = face_dls(bs=bs, nz=NZ, size=SIZE, steps_per_epoch=steps, device='cpu')
    return wgan_learner(dls, g, c, opt_func=opt_func, cbs=cbs)

class StepLog(Callback):
    "Which mode each training step ran in, and which network's weights it moved"
    order = 95
    def before_fit(self): self.steps = []
    def before_step(self): self.before = [p.detach().clone() for p in self.model.parameters()]
    def after_step(self):
        n_gen = len(list(self.model.generator.parameters()))
        moved = [not torch.equal(a, p) for a, p in zip(self.before, self.model.parameters())]
        self.steps.append((self.gan_trainer.gen_mode, any(moved[:n_gen]), any(moved[n_gen:])))

def fit_quiet(learn, epochs, lr=2e-4):
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        learn.fit(epochs, lr)

@pytest.mark.parametrize('kind', ['stock', 'wganface'])
def test_batch_size_above_image_count_still_trains(kind):
    # 42 images, batch size 64: stock fastai drops the only (incomplete) batch
    learn = make_learner(kind, bs=64, steps=3, cbs=StepLog())
    fit_quiet(learn, 2)
    n_steps = len(learn.step_log.steps)
    if kind == 'stock': assert n_steps == 0
    else: assert n_steps == 6

@pytest.mark.parametrize('kind', ['stock', 'wganface'])
def test_critic_generator_ratio_holds_across_epochs(kind):
    # one batch per epoch: stock resets its counters each epoch and validation flips it to generator mode
    learn = make_learner(kind, bs=42 if kind == 'stock' else 16, steps=1, cbs=StepLog())
    if kind == 'stock': learn.dls = stock_dls(bs=42)  # exactly one full batch per epoch
    fit_quiet(learn, 24)
    modes = [gen for gen, _, _ in learn.step_log.steps]
    n_gen, n_crit = sum(modes), len(modes) - sum(modes)
    ratio_ok = n_gen > 0 and n_crit == 5 * n_gen
    assert ratio_ok == (kind == 'wganface'), (n_crit, n_gen)
    if kind == 'wganface': assert modes[:6] == [False] * 5 + [True]

@pytest.mark.parametrize('kind', ['stock', 'wganface'])
def test_frozen_network_does_not_move_with_adam(kind):
    learn = make_learner(kind, bs=16, steps=6, opt_func=Adam, cbs=StepLog())
    if kind == 'stock': learn.dls = stock_dls(bs=8)
    fit_quiet(learn, 2)
    steps = learn.step_log.steps
    assert len(steps) >= 6
    frozen_moved = any((c_moved if gen else g_moved) for gen, g_moved, c_moved in steps)
    trained_moved = all((g_moved if gen else c_moved) for gen, g_moved, c_moved in steps)
    assert trained_moved
    assert frozen_moved == (kind == 'stock')

@pytest.mark.parametrize('kind', ['stock', 'wganface'])
def test_saving_leaves_learner_able_to_train(kind, tmp_path):
    learn = make_learner(kind, bs=16, steps=6, cbs=StepLog())
    if kind == 'stock': learn.dls = stock_dls(bs=8)
    fit_quiet(learn, 1)
    saved_ok = True
    try:
        if kind == 'stock':
            learn.path = tmp_path
            learn.export()
        else:
            save_checkpoint(learn, tmp_path/'ckpt.pt', options={})
    except Exception: saved_ok = False
    g_before = [p.detach().clone() for p in learn.model.generator.parameters()]
    c_before = [p.detach().clone() for p in learn.model.critic.parameters()]
    try:
        fit_quiet(learn, 2)
        g_moved = any(not torch.equal(a, p) for a, p in zip(g_before, learn.model.generator.parameters()))
        c_moved = any(not torch.equal(a, p) for a, p in zip(c_before, learn.model.critic.parameters()))
        trains_after = g_moved and c_moved
    except Exception: trains_after = False
    assert (saved_ok and trains_after) == (kind == 'wganface')
