"""Feed parser tests: one module per format, fixtures under fixtures/<format>/."""
