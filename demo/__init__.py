"""The demo: a feed simulator telling a story in the real formats, for ``make run`` and the tests.

Not part of the installed service package; run it from a checkout.
"""
