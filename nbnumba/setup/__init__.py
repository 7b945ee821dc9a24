"""The set-up stages of nanoBragg.c's main(), in its order; each returns a record of what it computed."""
