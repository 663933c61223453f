# The Linux version note (reference 1.5): lets glibc learn the kernel version without
# uname(). All fields are 32-bit even in the 64-bit vDSO. LINUX_VERSION_CODE defaults to
# 2.6.12 = (2 << 16) | (6 << 8) | 12; a build may define another value.

.ifndef LINUX_VERSION_CODE
.set LINUX_VERSION_CODE, 0x0002060C
.endif

	.section .note.kernel-version,"a",@note
	.balign	4
	.long	6			# namesz: "Linux" and its NUL
	.long	4			# descsz
	.long	0			# type
	.asciz	"Linux"
	.balign	4
	.long	LINUX_VERSION_CODE
