"""The `nbnumba` command: argv to the API, stdout and stderr as the C's stdio."""
