"""Files as nanoBragg.c reads and writes them: SMV, raw float and PGM images, HKL text and the Fdump cache."""
