"""Stage 2: decoded frames through a frozen backbone into multi-scale feature sequences in HDF5."""
