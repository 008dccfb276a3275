"""Code Rasa loads from this project (runs in .venv-rasa, Python 3.10): Kefu's token-protected channel."""
