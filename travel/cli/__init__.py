"""The ``travel`` command line: serve, import, feeds and sources. It sits on top of every other layer."""
