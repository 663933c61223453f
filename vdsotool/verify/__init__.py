"""Checking a built vDSO image by running it: a Python reference model of what each
function must return (:mod:`.model`), a C harness run under qemu-user (:mod:`.harness`) and
the ``vdsotool verify`` stage (:mod:`.run`)."""
