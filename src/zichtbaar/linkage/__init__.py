"""Record linkage of persons: normalisation, HMAC linkage keys, hardened Bloom encodings and
probabilistic matching. A pure library: it never imports Django, and Splink is loaded only
when ``find_pairs`` runs."""

from zichtbaar.linkage.bloom import BloomEncoder, bloom_encode, dice
from zichtbaar.linkage.keys import KEY_KINDS, linkage_keys
from zichtbaar.linkage.matching import InputError, Pair, find_pairs
from zichtbaar.linkage.normalise import COLUMNS, FieldError, normalise_person

__all__ = [
    "COLUMNS", "KEY_KINDS", "BloomEncoder", "FieldError", "InputError", "Pair", "bloom_encode",
    "dice", "find_pairs", "linkage_keys", "normalise_person",
]
