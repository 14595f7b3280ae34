"""Embedding backends: every model maps images and text into one L2-normalised space."""
