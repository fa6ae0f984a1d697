"""A no-code fine-tuning studio for text classifiers: the core, usable without a browser."""
__version__ = "0.1.0"
