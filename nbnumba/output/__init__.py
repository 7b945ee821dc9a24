"""After the render: statistics, the int/PGM/noise images, what the C prints, TRACE_PY lines."""
