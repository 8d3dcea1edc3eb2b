"""Feed adapters: one parser module per format (arriving with the feeds issue)."""
