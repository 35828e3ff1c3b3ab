"""wganface's layers, bottom up: each module may import only from modules in layers below its own.

The one place the architecture is written down. `tests/test_layers.py` reads every module's imports (lazy ones
too) and fails on an import from the same or a higher layer, or on a module that is in no layer. README's
"Architecture" section shows the same list.
"""

LAYERS = (
    ('core',),                                             # safe writes, JSON lines, argument checks, the device
    ('render', 'faces', 'latents', 'stats'),               # pixels and writers; the built-in person; latent maths; rank statistics
    ('data', 'models', 'augment', 'penalty', 'distrib'),   # images -> batches; networks and running them; critic add-ons; several processes
    ('options', 'gan'),                                    # a run's recipe; fastai's GAN learner, fixed for tiny data
    ('runs',),                                             # run folder, checkpoint format, `load_run`
    ('metrics', 'swd', 'inception', 'realness', 'detect', 'outputs', 'report'),  # measures on plain tensors; face detector; writing outputs
    ('evaluate', 'prepare'),                               # the evaluation report and its training callback; photos -> training set
    ('train',),                                            # `train` and the demo
    ('explore', 'dimreport'),                              # the explorers; the per-dimension report
    ('cli',),                                              # the `wganface` command
)
