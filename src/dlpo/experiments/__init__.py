"""Experiments: a YAML of methods x tasks x seeds x engines, run as trials (serially, in a process
pool or on Ray), summarised in results tables with paired statistics, plus transfer tables."""
