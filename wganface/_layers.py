"""wganface's layers, bottom up: each module may import only from modules in layers below its own.

The one place the architecture is written down. `tests/test_layers.py` reads every module's imports (lazy ones
too) and fails on an import from the same or a higher layer, or on a module that is in no layer. README's
"Architecture" section shows the same list.
"""

LAYERS = (
    ('core',),                                             # safe writes, JSON lines, argument checks, the device
    ('render', 'faces', 'latents', 'stats', 'conditional'),  # pixels and writers; the built-in person; latent maths; rank statistics; conditional generators
    ('data', 'models', 'augment', 'penalty', 'optim', 'distrib'),  # images -> batches; networks and running them; critic add-ons; fastai's optimisers, foreach; several processes
    ('options', 'gan', 'encoder'),                         # a run's recipe; fastai's GAN learner, fixed for tiny data; faces -> latents, the warm start
    ('runs',),                                             # run folder, checkpoint format, `load_run`
    ('metrics', 'swd', 'spectrum', 'inception', 'realness', 'detect', 'outputs', 'report', 'directions'),  # measures on plain tensors; face detector; writing outputs; latent directions and their file
    ('evaluate', 'prepare', 'steering', 'labels'),         # the evaluation report and its training callback; photos -> training set; SeFa, GANSpace, `edit`, knobs; labels files
    ('train', 'projection'),                               # `train` and the demo; a photo into the latent space
    ('explore', 'dimreport', 'sliders', 'attributes', 'photos'),  # the explorers; the per-dimension report; the slider state; attribute directions from labels; projecting and varying photos
    ('widgets', 'app'),                                    # slider panels: Jupyter widgets, the Streamlit web app
    ('cli',),                                              # the `wganface` command
)
