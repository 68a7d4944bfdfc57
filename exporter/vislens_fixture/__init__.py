"""A genuinely trained tiny LLaVA (Llama LM + CLIP vision tower + MLP connector) on a synthetic
"shapes world", used as the fixture model of vislens. See models/shapes-llava/README.md."""
