"""Export Hugging Face vision-language models to vislens model bundles (docs/bundle-format.md)."""

__version__ = "0.1.0"
