"""Report: what analysts read. The digest and alert models, the status view, and rendering."""
