"""Helpers of the training loop (`dlpo.train`): config, data order, bookkeeping, event records."""
