"""Call-frame information: the model (values), its encoder (bytes) and decoder, shared by the
assembler (``.cfi_*``), the linker (``.eh_frame``), the signal-frame generator and ``dump``."""
