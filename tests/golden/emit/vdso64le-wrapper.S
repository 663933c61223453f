/* AUTOMATICALLY GENERATED -- DO NOT EDIT
 *
 * vdso64le: embeds the ppc64le vDSO image with .incbin between page-aligned labels,
 * like the kernel's vdso64_wrapper.S; assemble with -I <directory of vdso64le.so>.
 * vdso64_end - vdso64_start is a whole number of 4096-byte pages.
 */
	.section ".data..page_aligned", "aw"

	.globl vdso64_start, vdso64_end
	.balign 4096
vdso64_start:
	.incbin "vdso64le.so"
	.balign 4096
vdso64_end:

	.section .note.GNU-stack, "", @progbits
