# The non-time functions reading the data page (modern-vdso-abi.md 4.6). They read the
# real data page (GET_REALDATAPAGE): page 1 when page 0 is a time-namespace page.
#
#   void *__kernel_get_syscall_map(unsigned int *count)
#     the syscall map of this image's word size; *count = NR_syscalls unless count is NULL
#   unsigned long long __kernel_get_tbfreq(void)
#     the timebase frequency (ppc32: high word in r3, low word in r4)

	.include "vdso_target.inc"
	.include "vdso_abi.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.text
V_FUNCTION_BEGIN __kernel_get_syscall_map
	.cfi_startproc
	mflr	r12
	.cfi_register lr,r12
	mr	r4,r3
	GET_REALDATAPAGE r3, r11
	mtlr	r12
	.cfi_restore lr
	addi	r3,r3,CFG_SYSCALL_MAP
	PTR_CMPLI r4,0
	beq-	1f
	li	r0,__NR_syscalls
	stw	r0,0(r4)
1:	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_get_syscall_map

V_FUNCTION_BEGIN __kernel_get_tbfreq
	.cfi_startproc
	mflr	r12
	.cfi_register lr,r12
	GET_REALDATAPAGE r3, r11
	mtlr	r12
	.cfi_restore lr
.if TARGET_BITS == 64
	ld	r3,CFG_TB_TICKS_PER_SEC(r3)
.else
	lwz	r4,CFG_TB_TICKS_PER_SEC+4(r3)
	lwz	r3,CFG_TB_TICKS_PER_SEC(r3)
.endif
	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_get_tbfreq
