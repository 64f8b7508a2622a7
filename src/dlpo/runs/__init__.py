"""Run directories: resolved config, append-only event log, atomic checkpoints and resume."""
