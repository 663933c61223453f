/* AUTOMATICALLY GENERATED -- DO NOT EDIT
 *
 * vdso32: embeds the ppc32 vDSO image with .incbin between page-aligned labels,
 * like the kernel's vdso32_wrapper.S; assemble with -I <directory of vdso32.so>.
 * vdso32_end - vdso32_start is a whole number of 4096-byte pages.
 */
	.section ".data..page_aligned", "aw"

	.globl vdso32_start, vdso32_end
	.balign 4096
vdso32_start:
	.incbin "vdso32.so"
	.balign 4096
vdso32_end:

	.section .note.GNU-stack, "", @progbits
