"""The core every other layer may use; it imports nothing of ours above it.

Records, errors, geometry, spatial maths, coordinate systems, stakes and linear referencing,
vehicle classes, the file cell conventions, settings and logging.
"""
