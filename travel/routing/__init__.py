"""Route planning on the road network: an ALT (A*, landmarks, triangle inequality) engine with live closures.

See README.md beside this file for the technique, why it stays exact under live changes, and its numbers.
"""
