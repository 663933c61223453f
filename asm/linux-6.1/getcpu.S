# int __kernel_getcpu(unsigned int *cpu, unsigned int *node)   (modern-vdso-abi.md 4.7)
#
# 64-bit: a 64-bit kernel keeps (node << 16) | cpu in USPRG3 (SPR 259, user-readable) on
# every CPU. ppc32: the 32-bit kernel this image is for exports getcpu only when it is
# uniprocessor, where both are 0. NULL pointers are skipped. Returns 0, CR0.SO clear.

	.include "vdso_target.inc"
	.include "vdso_abi.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.text
V_FUNCTION_BEGIN __kernel_getcpu
	.cfi_startproc
.if TARGET_BITS == 64
	mfspr	r5,259
	cmpldi	r3,0
	beq-	1f
	clrlwi	r6,r5,16		# cpu
	stw	r6,0(r3)
1:	cmpldi	r4,0
	beq-	2f
	srwi	r6,r5,16		# node
	stw	r6,0(r4)
.else
	li	r5,0
	cmplwi	r3,0
	beq-	1f
	stw	r5,0(r3)
1:	cmplwi	r4,0
	beq-	2f
	stw	r5,0(r4)
.endif
2:	li	r3,0
	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_getcpu
