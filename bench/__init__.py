"""The benchmark suite: `make bench`. Every figure is a ratio to a reference measured
in the same run, on the same machine, because this machine is shared and noisy."""
