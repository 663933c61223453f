"""vdsotool's linker: objects and a linker script -> the vDSO image and its debug twin, GNU
ld's byte for byte; driver.py is the entry, one module per ELF chunk (docs/linker.md)."""
