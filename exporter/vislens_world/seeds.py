"""Seeds of the open-vocabulary world's shipped data, all distinct from each other and from training's.

Training draws its scenes from np.random.default_rng([TRAIN_SEED, stage, step]) (imageset.training_scenes),
whose streams never coincide with a single-integer seed's.
"""
EVAL_SEED = 271828  # the held-out eval image set
EVAL_N = 250
CORPUS_SEED = 314159  # corpus.txt + corpus-heldout.txt
CORPUS_N = 60000  # distinct sentences before the held-out split (about 57,000 + 3,000)
TRAIN_SEED = 1
CONCEPT_SEED = 161803  # the concept split: scenes that each show one of CONCEPT_TARGETS
CONCEPT_TARGETS = ("dog", "cat", "banana", "apple", "bus", "train")  # the paper's dog, cat, bus, train + two fruits
CONCEPT_PER_TARGET = 100
