"""The read side: what every API process answers from memory.

The read model kept current from the change bus, its spatial index, list selection and place
resolution. Routing and tolls (sibling packages) build on it.
"""
