"""The command line: the flags table, argv interpretation with the C's semantics, the options record."""
