"""The `dlpo` command line. Each command lives in its own module and registers itself in `app.py`."""
