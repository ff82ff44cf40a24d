"""Offline background removal: the model catalogue and loading, the pixel pipeline, the use case."""
