"""The open-vocabulary world: scenes of 1-4 drawn objects (Twemoji artwork, 277 classes in 27
categories) on varied backgrounds, their captions, question-answer prompts, per-object and per-patch
annotations, and a text corpus relating the objects to their categories, keywords and attributes.

Seeded and pure: every scene, image and sentence is a function of a numpy Generator. The assets
(assets/objects.json, assets/sprites/) are built by scripts/world-assets.mjs; see assets/ASSETS.md.
"""
