"""ABI facts as data, in one place: targets, data page, signal frames, CPUs, register numbers.

Everything else reads these tables; nothing retypes a number found here.
"""
