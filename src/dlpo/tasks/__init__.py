"""Tasks: examples with splits, answer-format instruction, extraction and scoring."""
