"""The comparison harness: runs, timing, studies, reports, plots and the command line."""
