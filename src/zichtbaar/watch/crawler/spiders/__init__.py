"""The generic ad spider (one class; every site is a source YAML)."""
