"""zichtbaar: make hidden victims of human trafficking visible, safely."""

__version__ = "0.1.0"
