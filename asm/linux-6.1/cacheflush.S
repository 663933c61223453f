# void __kernel_sync_dicache(unsigned long start, unsigned long end)
#   (modern-vdso-abi.md 4.8)
#
# Makes freshly written code in [start, end) executable: dcbst every data-cache block
# touching the range, sync, icbi every instruction-cache block, isync. The block sizes
# come from the real data page on 64-bit (the kernel measured them) and are the 32-bit
# kernel's L1_CACHE_BYTES on ppc32. An empty or inverted range flushes nothing. Returns
# 0 with CR0.SO clear.

	.include "vdso_target.inc"
	.include "vdso_abi.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.text
V_FUNCTION_BEGIN __kernel_sync_dicache
	.cfi_startproc
.if TARGET_BITS == 64
	cmpld	r4,r3
	ble-	3f			# empty range
	mflr	r12
	.cfi_register lr,r12
	GET_REALDATAPAGE r10, r11
	mtlr	r12
	.cfi_restore lr
	lwz	r7,CFG_DCACHE_BLOCKSZ(r10)
	lwz	r9,CFG_DCACHE_LOGBLOCKSZ(r10)
	addi	r5,r7,-1
	andc	r6,r3,r5		# first block
	subf	r8,r6,r4
	add	r8,r8,r5
	srd	r8,r8,r9		# number of blocks
	mtctr	r8
1:	dcbst	0,r6
	add	r6,r6,r7
	bdnz	1b
	sync
	lwz	r7,CFG_ICACHE_BLOCKSZ(r10)
	lwz	r9,CFG_ICACHE_LOGBLOCKSZ(r10)
	addi	r5,r7,-1
	andc	r6,r3,r5
	subf	r8,r6,r4
	add	r8,r8,r5
	srd	r8,r8,r9
	mtctr	r8
2:	icbi	0,r6
	add	r6,r6,r7
	bdnz	2b
.else
	cmplw	r4,r3
	ble-	3f
	li	r5,L1_CACHE_BYTES-1
	andc	r6,r3,r5
	subf	r8,r6,r4
	add	r8,r8,r5
	srwi	r8,r8,L1_CACHE_SHIFT
	mtctr	r8
	mr	r7,r6
1:	dcbst	0,r7
	addi	r7,r7,L1_CACHE_BYTES
	bdnz	1b
	sync
	mtctr	r8
2:	icbi	0,r6
	addi	r6,r6,L1_CACHE_BYTES
	bdnz	2b
.endif
	isync
3:	li	r3,0
	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_sync_dicache
