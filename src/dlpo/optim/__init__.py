"""The textual optimizer: prompt variable, loss and textual gradient, update request, techniques,
schedules and acceptance rules (shaped after torch.optim; recipes after optax aliases)."""
