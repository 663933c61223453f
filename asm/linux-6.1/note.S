# The "Linux" version note (type 0): LINUX_VERSION_CODE defaults to the ABI's kernel
# (ABI_VERSION_CODE of vdso_abi.inc: 6.1.0), which tells a reader which kernel ABI the
# image follows; a kernel build sets its own with `vdsotool build --linux-version X.Y.Z`
# (or -D LINUX_VERSION_CODE=N). All fields are 32-bit in both word sizes.

	.include "vdso_abi.inc"

.ifndef LINUX_VERSION_CODE
.set LINUX_VERSION_CODE, ABI_VERSION_CODE
.endif

	.section .note.Linux,"a",@note
	.balign	4
	.long	6			# namesz: "Linux" and its NUL
	.long	4			# descsz
	.long	0			# type
	.asciz	"Linux"
	.balign	4
	.long	LINUX_VERSION_CODE
