"""Source files copied verbatim into every export (not used by attnflow itself).

``_selftest.py`` becomes ``DIR/_selftest.py`` of the exported package (standard library and numpy
only; it finds ``manifest.json`` and ``data/`` next to itself); see :mod:`attnflow.export`.
"""
