"""Reading images, never writing them, over an image parsed once by :mod:`vdsotool.elf`:
``vdsotool check`` (check.py, hash_check.py) and ``vdsotool dump`` (dump.py, with the CFI
row tables, the symbolic rule evaluation and naming of signal-frame slots, the patch view)."""
