"""What a kernel does to a vDSO image when it boots, as the code that does it: the 2.6.15
per-CPU ``.dynsym`` patches and the data-page word (:mod:`vdsotool.kernel.patches`), and
today's feature fixups (:mod:`vdsotool.kernel.fixups`).

It sits below the stages that need it — ``emit`` (the patch tables of the C blob and of
``patches.json``), ``inspect`` (``dump --patches``, ``dump --fixups``), ``vdsotool patch``
and ``verify`` — and reads images through :mod:`vdsotool.elf` only."""
