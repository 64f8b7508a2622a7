"""The textual optimizer: prompt variable, loss and textual gradient, update request, techniques,
schedules and acceptance rules (shaped after torch.optim; recipes after optax aliases).

Import from the submodules (`dlpo.optim.optimizer`, `dlpo.optim.presets`, ...); this package
imports nothing eagerly.
"""
