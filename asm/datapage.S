# Finding the data page, and __kernel_get_syscall_map.
#
# The kernel maps the data page right after the vDSO's last page. The image cannot know
# its own size in pages at assembly time, so the kernel patches the 32-bit word
# __kernel_datapage_offset at boot with (vdso_pages << 12) - st_value: the distance from
# that word to the data page. __get_datapage finds the word's run-time address with
# "bcl 20,31,.+4" - the one bcl form POWER8 does not push on its link stack (the
# 2005 "bcl 20,31,+8" over the word corrupted it) - hence the word lives after the code.
#
# __get_datapage is an internal helper: hidden, called with bl; returns the page in r3,
# clobbers r0 and LR (callers keep their LR in r12).

	.include "vdso_target.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.text
	.globl	__get_datapage
	.hidden	__get_datapage
.if TARGET_BITS == 32
	.type	__get_datapage,@function
.endif
__get_datapage:
	.cfi_startproc
	mflr	r0
	.cfi_register lr,r0
	bcl	20,31,1f
1:	mflr	r3
	mtlr	r0
	.cfi_restore lr
	addi	r3,r3,__kernel_datapage_offset-1b
	lwz	r0,0(r3)
	add	r3,r3,r0
	blr
	.cfi_endproc
	.size	__get_datapage,.-__get_datapage

# The word the kernel patches; a datum, not code (NOTYPE in both word sizes).
	.globl	__kernel_datapage_offset
__kernel_datapage_offset:
	.long	0
	.size	__kernel_datapage_offset,4

# void *__kernel_get_syscall_map(unsigned int *syscall_count)
# Returns the syscall map of this image's word size; stores __NR_syscalls in
# *syscall_count unless it is NULL.
V_FUNCTION_BEGIN __kernel_get_syscall_map
	.cfi_startproc
	mr	r4,r3			# syscall_count
	GET_DATAPAGE
	addi	r3,r3,CFG_SYSCALL_MAP
	PTR_CMPLI r4,0
	beq	1f
	li	r0,__NR_syscalls
	stw	r0,0(r4)
1:	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_get_syscall_map
