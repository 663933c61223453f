# Making freshly written code executable (reference 4).
#
# void __kernel_sync_dicache(unsigned long start, unsigned long end)
#   For every 128-byte line touching [start, end): dcbst (write the data cache line to
#   memory), then sync, then icbi the same lines (drop stale instruction cache lines), then
#   isync (drop prefetched instructions). All CPUs of the 2005 kernel had 128-byte lines,
#   so the line size is a constant, not read from the data page. end <= start: nothing.
#
# void __kernel_sync_dicache_p5(unsigned long start, unsigned long end)
#   POWER5 snoops its instruction cache: sync; isync is enough.
#
# Both return 0 with CR0.SO clear, like a successful syscall.

	.include "vdso_target.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.set	LINE_SIZE, 128
	.set	LINE_SHIFT, 7

	.text
V_FUNCTION_BEGIN __kernel_sync_dicache
	.cfi_startproc
	PTR_CMPL r4,r3
	ble	3f			# empty range
	li	r5,LINE_SIZE-1
	andc	r6,r3,r5		# first line
	subf	r8,r6,r4
	add	r8,r8,r5
.if TARGET_BITS == 64
	srdi	r8,r8,LINE_SHIFT	# number of lines
.else
	srwi	r8,r8,LINE_SHIFT
.endif
	mtctr	r8
	mr	r3,r6
1:	dcbst	0,r3
	addi	r3,r3,LINE_SIZE
	bdnz	1b
	sync
	mtctr	r8
2:	icbi	0,r6
	addi	r6,r6,LINE_SIZE
	bdnz	2b
	isync
3:	li	r3,0
	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_sync_dicache

V_FUNCTION_BEGIN __kernel_sync_dicache_p5
	.cfi_startproc
	sync
	isync
	li	r3,0
	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_sync_dicache_p5
