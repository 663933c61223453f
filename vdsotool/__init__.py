"""vdsotool: build, check and inspect PowerPC vDSO images without a cross toolchain.

Pipeline (one package per stage): assemble -> link -> emit, with inspect reading any image.
ABI facts live once, as data, in :mod:`vdsotool.abi`.
"""

__version__ = "0.1.0"
