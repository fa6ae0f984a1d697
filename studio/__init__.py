"""A no-code fine-tuning studio for text classifiers: the core, usable without a browser."""
__version__ = "0.1.0"


def sample_data_path():
    """The sample table behind "Try the sample data" (a file inside the package, found wherever it is installed)."""
    from importlib.resources import files
    from pathlib import Path
    return Path(str(files(__name__).joinpath("assets", "sample_support_tickets.csv")))
