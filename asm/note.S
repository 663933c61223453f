# The Linux version note (reference 1.5): lets glibc learn the kernel version without
# uname(). All fields are 32-bit even in the 64-bit vDSO. LINUX_VERSION_CODE defaults to
# 2.6.15 = (2 << 16) | (6 << 8) | 15, the kernel of the version node the images export
# (LINUX_2.6.15 in linker_scripts/); a kernel build sets its own with
# `vdsotool build --linux-version X.Y.Z` (or -D LINUX_VERSION_CODE=N).

.ifndef LINUX_VERSION_CODE
.set LINUX_VERSION_CODE, 0x0002060F
.endif

	.section .note.kernel-version,"a",@note
	.balign	4
	.long	6			# namesz: "Linux" and its NUL
	.long	4			# descsz
	.long	0			# type
	.asciz	"Linux"
	.balign	4
	.long	LINUX_VERSION_CODE
