"""vsearch: search your own video folders by sentence and jump to the matching moment."""

__version__ = "0.1.0"
