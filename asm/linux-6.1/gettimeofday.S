# The clock family of Linux 6.1 (modern-vdso-abi.md 4.2-4.5), in assembly:
#
#   int __kernel_clock_gettime(clockid_t clk, struct timespec *ts)
#   int __kernel_clock_gettime64(clockid_t clk, struct __kernel_timespec *ts)   (ppc32)
#   int __kernel_clock_getres(clockid_t clk, struct timespec *res)
#   int __kernel_gettimeofday(struct timeval *tv, struct timezone *tz)
#   time_t __kernel_time(time_t *t)
#
# Clocks: REALTIME, MONOTONIC, BOOTTIME and TAI read data[0] at high resolution,
# MONOTONIC_RAW reads data[1]; the COARSE ones copy their basetime slot. Any other id
# (or one >= MAX_CLOCKS, unsigned) makes the real syscall, whose r3 and CR0.SO the caller
# gets unchanged. High resolution, with TB the timebase and vd the element:
#   ns  = ((TB - cycle_last) * mult + basetime[clk].nsec) >> shift      (mod 2^64)
#   sec = basetime[clk].sec + ns / 1e9,  ns %= 1e9
# read under the seqlock: seq even, lwsync (sync on ppc32), the loads, lwsync, seq
# unchanged (else again).
#
# Time namespaces: an odd seq with clock_mode == INT_MAX on page 0 means page 0 is the
# task's namespace page; the read then goes to the same element one page up (the real
# data page) and adds the namespace page's offset[clk] before normalising. cr1.gt records
# that the read went through a namespace page. An odd seq otherwise means the kernel is
# updating: spin.

	.include "vdso_target.inc"
	.include "vdso_abi.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.text
.if TARGET_BITS == 64

# The seqlock read of a high-resolution clock. In: r5 = element (page 0), r7 = r5 + clk*16,
# cr1.gt clear. Out, at .L<p>_done: r0 = tv_sec, r9 = tv_nsec. Keeps r3 and r4; clobbers
# r5-r12, cr0, cr1. HRES64_TAIL <p> holds the rarely taken paths.
.macro HRES64 p
.L\p\()_retry:
	lwz	r8,VD_SEQ(r5)
	andi.	r0,r8,1
	bne-	.L\p\()_odd
	lwsync
	mftb	r9
	ld	r10,VD_CYCLE_LAST(r5)
	lwz	r11,VD_MULT(r5)
	lwz	r6,VD_SHIFT(r5)
	ld	r0,VD_BASETIME(r7)
	ld	r12,VD_BASETIME+8(r7)
	lwsync
	subf	r9,r10,r9		# TB - cycle_last
	lwz	r10,VD_SEQ(r5)
	cmplw	r10,r8
	bne-	.L\p\()_retry		# the kernel published meanwhile
	mulld	r9,r9,r11
	add	r9,r9,r12
	srd	r9,r9,r6		# ns
	bgt-	cr1,.L\p\()_ns
.L\p\()_norm:
	lis	r10,NSEC_PER_SEC >> 16
	ori	r10,r10,NSEC_PER_SEC & 0xffff
	cmpld	r9,r10
	bge-	.L\p\()_carry
.L\p\()_done:
.endm

# The coarse read. Same registers as HRES64, and the same .L<p>_done.
.macro COARSE64 p
.L\p\()_cretry:
	lwz	r8,VD_SEQ(r5)
	andi.	r0,r8,1
	bne-	.L\p\()_codd
	lwsync
	ld	r0,VD_BASETIME(r7)
	ld	r9,VD_BASETIME+8(r7)
	lwsync
	lwz	r10,VD_SEQ(r5)
	cmplw	r10,r8
	bne-	.L\p\()_cretry
	bgt-	cr1,.L\p\()_ns
	b	.L\p\()_done
.endm

# An odd seq: enter the namespace (once) or spin, then read again at \retry.
.macro ODD64 p, retry
	bgt-	cr1,1f			# already on the real page: the kernel is updating it
	IS_TIMENS r0, r5, VD_CLOCK_MODE
	bne-	1f
	crset	CR1_NS
	ADD_PAGE r5
	ADD_PAGE r7
	b	\retry
1:
	CPU_RELAX
	b	\retry
.endm

.macro HRES64_TAIL p
.L\p\()_carry:				# ns >= 1e9: carry whole seconds
	divdu	r11,r9,r10
	mulld	r12,r11,r10
	subf	r9,r12,r9
	add	r0,r0,r11
	b	.L\p\()_done
.L\p\()_ns:				# add the namespace offset (one page down)
.if PAGE_SIZE < 0x8000
	addi	r10,r7,-PAGE_SIZE
.else
	addis	r10,r7,-PAGE_SIZE@ha
.endif
	ld	r11,VD_BASETIME(r10)
	ld	r12,VD_BASETIME+8(r10)
	add	r0,r0,r11
	add	r9,r9,r12
	b	.L\p\()_norm
.L\p\()_odd:
	ODD64 \p, .L\p\()_retry
.endm

V_FUNCTION_BEGIN __kernel_clock_gettime
	.cfi_startproc
	cmplwi	cr1,r3,MAX_CLOCKS-1
	li	r0,1
	slw	r0,r0,r3		# the clock's bit (valid when clk < MAX_CLOCKS)
	mflr	r12
	.cfi_register lr,r12
	GET_DATAPAGE r5, CFG_DATA
	mtlr	r12
	.cfi_restore lr
	bgt-	cr1,.Lcgt_syscall
	andi.	r6,r0,CLOCKS_HRES
	beq-	.Lcgt_other
.Lcgt_hres:
	rlwinm	r7,r3,4,24,27		# clk * 16
	add	r7,r7,r5
	HRES64	cgt
	std	r0,0(r4)
	std	r9,8(r4)
	li	r3,0
	crclr	CR0_SO
	blr
.Lcgt_other:
	andi.	r6,r0,CLOCKS_COARSE
	bne-	.Lcgt_coarse
	andi.	r6,r0,CLOCKS_RAW
	beq-	.Lcgt_syscall
	addi	r5,r5,VD_SIZE		# MONOTONIC_RAW: data[1]
	b	.Lcgt_hres
.Lcgt_coarse:
	rlwinm	r7,r3,4,24,27
	add	r7,r7,r5
	COARSE64 cgt
.Lcgt_syscall:
	li	r0,__NR_clock_gettime
	sc
	blr
	HRES64_TAIL cgt
.Lcgt_codd:
	ODD64	cgt, .Lcgt_cretry
	.cfi_endproc
V_FUNCTION_END __kernel_clock_gettime

V_FUNCTION_BEGIN __kernel_gettimeofday
	.cfi_startproc
	mflr	r12
	.cfi_register lr,r12
	GET_DATAPAGE r5, CFG_DATA
	mtlr	r12
	.cfi_restore lr
	cmpldi	r3,0
	beq-	.Lgtod_tz
	crclr	CR1_NS
	mr	r7,r5			# basetime[CLOCK_REALTIME]
	HRES64	gtod
	lis	r11,0x1062		# usec = ns / 1000 = (ns * 0x10624dd3) >> 38
	ori	r11,r11,0x4dd3
	mulhwu	r9,r9,r11
	srwi	r9,r9,6
	std	r0,0(r3)
	std	r9,8(r3)
.Lgtod_tz:
	cmpldi	r4,0
	bne-	.Lgtod_store_tz
.Lgtod_ret:
	li	r3,0
	crclr	CR0_SO
	blr
.Lgtod_store_tz:			# r5: page 0's data[0], or already the real one
	IS_TIMENS r6, r5, VD_CLOCK_MODE
	bne+	1f
	ADD_PAGE r5
1:	lwz	r6,VD_TZ_MINUTEWEST(r5)
	lwz	r7,VD_TZ_DSTTIME(r5)
	stw	r6,TZONE_TZ_MINWEST(r4)
	stw	r7,TZONE_TZ_DSTTIME(r4)
	b	.Lgtod_ret
	HRES64_TAIL gtod
	.cfi_endproc
V_FUNCTION_END __kernel_gettimeofday

.else	# TARGET_BITS == 32

# ppc32 is big-endian only (vdsotool/abi/targets.py): the high word of a u64 comes first.
# The reads are ordered with sync, the 32-bit kernel's smp_rmb: e500v1/v2 cores have no
# lwsync (the kernel patches sync into lwsync only where CPU_FTR_LWSYNC says it exists).
.set HI, 0
.set LO, 4

# The seqlock read of a high-resolution clock, 64-bit values in word pairs. In: r5 =
# element (page 0), r7 = r5 + clk*16, cr1.gt clear. Out, at .L<p>_done: sec in r12:r11,
# nsec in r9:r10 (hi:lo). Keeps r3 and r4; clobbers r0, r5-r12, cr0, cr1, xer.
#   delta = TB - cycle_last;  ns = delta * mult + nsec  (64x32 with mullw/mulhwu)
#   ns >>= shift  (a 64-bit shift made of word shifts, exact for 0..63)
.macro HRES32 p
.L\p\()_retry:
	lwz	r8,VD_SEQ(r5)
	andi.	r0,r8,1
	bne-	.L\p\()_odd
	sync
1:	mftbu	r9
	mftb	r10
	mftbu	r0
	cmplw	r0,r9
	bne-	1b			# the low word wrapped between the reads
	lwz	r11,VD_CYCLE_LAST+LO(r5)
	lwz	r12,VD_CYCLE_LAST+HI(r5)
	subfc	r10,r11,r10
	subfe	r9,r12,r9		# delta
	lwz	r11,VD_MULT(r5)
	mullw	r12,r9,r11
	mulhwu	r9,r10,r11
	mullw	r10,r10,r11
	add	r9,r9,r12		# delta * mult
	lwz	r11,VD_BASETIME+8+LO(r7)
	lwz	r12,VD_BASETIME+8+HI(r7)
	addc	r10,r10,r11
	adde	r9,r9,r12		# + basetime.nsec
	lwz	r6,VD_SHIFT(r5)
	lwz	r11,VD_BASETIME+LO(r7)
	lwz	r12,VD_BASETIME+HI(r7)
	sync
	lwz	r0,VD_SEQ(r5)
	cmplw	r0,r8
	bne-	.L\p\()_retry		# the kernel published meanwhile
	srw	r10,r10,r6
	subfic	r0,r6,32
	slw	r0,r9,r0
	or	r10,r10,r0
	addi	r0,r6,-32
	srw	r0,r9,r0
	or	r10,r10,r0
	srw	r9,r9,r6		# ns >> shift
	bgt-	cr1,.L\p\()_ns
.L\p\()_norm:
	lis	r0,NSEC_PER_SEC >> 16
	ori	r0,r0,NSEC_PER_SEC & 0xffff
.L\p\()_cmp:
	cmplwi	r9,0
	bne-	.L\p\()_carry
	cmplw	r10,r0
	bge-	.L\p\()_carry
.L\p\()_done:
.endm

.macro COARSE32 p
.L\p\()_cretry:
	lwz	r8,VD_SEQ(r5)
	andi.	r0,r8,1
	bne-	.L\p\()_codd
	sync
	lwz	r12,VD_BASETIME+HI(r7)
	lwz	r11,VD_BASETIME+LO(r7)
	lwz	r9,VD_BASETIME+8+HI(r7)
	lwz	r10,VD_BASETIME+8+LO(r7)
	sync
	lwz	r0,VD_SEQ(r5)
	cmplw	r0,r8
	bne-	.L\p\()_cretry
	bgt-	cr1,.L\p\()_ns
	b	.L\p\()_done
.endm

# (A 32-bit kernel's cpu_relax is empty: the spin is a plain branch back.)
.macro ODD32 p, retry
	bgt-	cr1,\retry		# already on the real page: the kernel is updating it
	IS_TIMENS r0, r5, VD_CLOCK_MODE
	bne-	\retry
	crset	CR1_NS
	ADD_PAGE r5
	ADD_PAGE r7
	b	\retry
.endm

.macro HRES32_TAIL p
.L\p\()_carry:				# ns >= 1e9: one second at a time, as the kernel
	subfc	r10,r0,r10
	addme	r9,r9
	addic	r11,r11,1
	addze	r12,r12
	b	.L\p\()_cmp
.L\p\()_ns:				# add the namespace offset (one page down)
.if PAGE_SIZE < 0x8000
	addi	r8,r7,-PAGE_SIZE
.else
	addis	r8,r7,-PAGE_SIZE@ha
.endif
	lwz	r0,VD_BASETIME+LO(r8)
	addc	r11,r11,r0
	lwz	r0,VD_BASETIME+HI(r8)
	adde	r12,r12,r0
	lwz	r0,VD_BASETIME+8+LO(r8)
	addc	r10,r10,r0
	lwz	r0,VD_BASETIME+8+HI(r8)
	adde	r9,r9,r0
	b	.L\p\()_norm
.L\p\()_odd:
	ODD32	\p, .L\p\()_retry
.endm

# clock_gettime for ppc32: \wide = 0 stores struct old_timespec32 (the low words),
# 1 struct __kernel_timespec (64-bit fields); \nr is the fallback syscall.
.macro CLOCK_GETTIME32 name, p, nr, wide
V_FUNCTION_BEGIN \name
	.cfi_startproc
	cmplwi	cr1,r3,MAX_CLOCKS-1
	li	r0,1
	slw	r0,r0,r3
	mflr	r12
	.cfi_register lr,r12
	GET_DATAPAGE r5, CFG_DATA
	mtlr	r12
	.cfi_restore lr
	bgt-	cr1,.L\p\()_syscall
	andi.	r6,r0,CLOCKS_HRES
	beq-	.L\p\()_other
.L\p\()_hres:
	rlwinm	r7,r3,4,24,27		# clk * 16
	add	r7,r7,r5
	HRES32	\p
.if \wide
	stw	r12,0(r4)
	stw	r11,4(r4)
	stw	r9,8(r4)
	stw	r10,12(r4)
.else
	stw	r11,0(r4)
	stw	r10,4(r4)
.endif
	li	r3,0
	crclr	CR0_SO
	blr
.L\p\()_other:
	andi.	r6,r0,CLOCKS_COARSE
	bne-	.L\p\()_coarse
	andi.	r6,r0,CLOCKS_RAW
	beq-	.L\p\()_syscall
	addi	r5,r5,VD_SIZE		# MONOTONIC_RAW: data[1]
	b	.L\p\()_hres
.L\p\()_coarse:
	rlwinm	r7,r3,4,24,27
	add	r7,r7,r5
	COARSE32 \p
.L\p\()_syscall:
	li	r0,\nr
	sc
	blr
	HRES32_TAIL \p
.L\p\()_codd:
	ODD32	\p, .L\p\()_cretry
	.cfi_endproc
V_FUNCTION_END \name
.endm

	CLOCK_GETTIME32 __kernel_clock_gettime, cgt, __NR_clock_gettime, 0
	CLOCK_GETTIME32 __kernel_clock_gettime64, cgt64, __NR_clock_gettime64, 1

V_FUNCTION_BEGIN __kernel_gettimeofday
	.cfi_startproc
	mflr	r12
	.cfi_register lr,r12
	GET_DATAPAGE r5, CFG_DATA
	mtlr	r12
	.cfi_restore lr
	cmplwi	r3,0
	beq-	.Lgtod_tz
	crclr	CR1_NS
	mr	r7,r5			# basetime[CLOCK_REALTIME]
	HRES32	gtod
	lis	r0,0x1062		# usec = ns / 1000 = (ns * 0x10624dd3) >> 38
	ori	r0,r0,0x4dd3
	mulhwu	r10,r10,r0
	srwi	r10,r10,6
	stw	r11,0(r3)
	stw	r10,4(r3)
.Lgtod_tz:
	cmplwi	r4,0
	bne-	.Lgtod_store_tz
.Lgtod_ret:
	li	r3,0
	crclr	CR0_SO
	blr
.Lgtod_store_tz:			# r5: page 0's data[0], or already the real one
	IS_TIMENS r6, r5, VD_CLOCK_MODE
	bne+	1f
	ADD_PAGE r5
1:	lwz	r6,VD_TZ_MINUTEWEST(r5)
	lwz	r7,VD_TZ_DSTTIME(r5)
	stw	r6,TZONE_TZ_MINWEST(r4)
	stw	r7,TZONE_TZ_DSTTIME(r4)
	b	.Lgtod_ret
	HRES32_TAIL gtod
	.cfi_endproc
V_FUNCTION_END __kernel_gettimeofday

.endif	# TARGET_BITS

V_FUNCTION_BEGIN __kernel_clock_getres
	.cfi_startproc
	cmplwi	cr1,r3,MAX_CLOCKS-1
	li	r0,1
	slw	r0,r0,r3
	bgt-	cr1,.Lres_syscall
	andi.	r6,r0,CLOCKS_HRES | CLOCKS_RAW
	bne+	.Lres_hres
	andi.	r6,r0,CLOCKS_COARSE
	beq-	.Lres_syscall
	lis	r6,LOW_RES_NSEC >> 16
	ori	r6,r6,LOW_RES_NSEC & 0xffff
.Lres_store:
	PTR_CMPLI r4,0
	beq-	1f
	li	r0,0
.if TARGET_BITS == 64
	std	r0,0(r4)
	std	r6,8(r4)
.else
	stw	r0,0(r4)
	stw	r6,4(r4)
.endif
1:	li	r3,0
	crclr	CR0_SO
	blr
.Lres_hres:
	mflr	r12
	.cfi_register lr,r12
	GET_DATAPAGE r5, CFG_DATA
	mtlr	r12
	.cfi_restore lr
	IS_TIMENS r6, r5, VD_CLOCK_MODE
	bne+	2f
	ADD_PAGE r5
2:	lwz	r6,VD_HRTIMER_RES(r5)
	b	.Lres_store
.Lres_syscall:
	li	r0,__NR_clock_getres
	sc
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_clock_getres

V_FUNCTION_BEGIN __kernel_time
	.cfi_startproc
	mflr	r12
	.cfi_register lr,r12
	GET_DATAPAGE r4, CFG_DATA
	mtlr	r12
	.cfi_restore lr
	IS_TIMENS r5, r4, VD_CLOCK_MODE
	beq-	2f
1:
.if TARGET_BITS == 64
	ld	r5,VD_BASETIME(r4)	# basetime[CLOCK_REALTIME].sec
	cmpldi	r3,0
	beq	3f
	std	r5,0(r3)
.else
	lwz	r5,VD_BASETIME+4(r4)	# its low word (big-endian)
	cmplwi	r3,0
	beq	3f
	stw	r5,0(r3)
.endif
3:	mr	r3,r5
	crclr	CR0_SO
	blr
2:
	ADD_PAGE r4
	b	1b
	.cfi_endproc
V_FUNCTION_END __kernel_time
