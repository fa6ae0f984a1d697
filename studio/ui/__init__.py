"""The web UI: the only part of the studio that imports gradio."""
