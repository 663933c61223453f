# int __kernel_gettimeofday(struct timeval *tv, struct timezone *tz)   (reference 3)
#
# Time in "xsec" (2^-20 s): xsec = stamp_xsec + mulhdu(TB - tb_orig_stamp, tb_to_xs),
# with mulhdu(a, b) = floor(a * b / 2^64). tv_sec = xsec >> 20,
# tv_usec = ((xsec & 0xFFFFF) * 1000000) >> 20. tv and tz may each be NULL.
#
# Lockless read: the kernel makes tb_update_count odd while it updates the page and even
# again after. We wait while it is odd, read, then re-read it and start over if it
# changed. Instead of a read barrier each later load takes an address that depends on
# the value read before (x ^ x = 0 added to the page pointer), which orders them.
#
# 64-bit: one 64x64 mulhdu. 32-bit: 64-bit values as (hi, lo) word pairs; the kernel
# keeps TB - tb_orig_stamp below 2^32, so t is one word and
#   floor(t * (H:L) / 2^64) = high(t*H) + carry(low(t*H) + high(t*L)).
# If the high word of TB - tb_orig_stamp is not zero the 32-bit code makes the real
# gettimeofday syscall instead, once the update count shows that the words it read
# belong together (a read torn by a concurrent update must retry, not cost a syscall).
#
# Success returns 0 with CR0.SO clear; the syscall fallback returns what sc returns.
#
# The timebase read is one macro: mftb normally; with VDSO_TEST_TIMEBASE defined the
# "timebase" is the test_timebase field of the data page, so tests control it exactly.

	.include "vdso_target.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"

	.text
.if TARGET_BITS == 64

# TB into \rt (64-bit); \rp = data page.
.macro READ_TB rt, rp
.ifdef VDSO_TEST_TIMEBASE
	ld	\rt,CFG_TEST_TIMEBASE(\rp)
.else
	mftb	\rt
.endif
.endm

V_FUNCTION_BEGIN __kernel_gettimeofday
	.cfi_startproc
	mr	r11,r3			# tv
	mr	r10,r4			# tz
	GET_DATAPAGE
	mr	r9,r3			# data page
1:	ld	r8,CFG_TB_UPDATE_COUNT(r9)
	andi.	r0,r8,1
	bne-	1b			# update in progress
	xor	r0,r8,r8		# 0, dependent on the count
	add	r9,r9,r0
	ld	r7,CFG_TB_ORIG_STAMP(r9)
	READ_TB	r6,r9
	ld	r5,CFG_TB_TO_XS(r9)
	subf	r6,r7,r6		# ticks since the stamp
	mulhdu	r6,r6,r5
	ld	r5,CFG_STAMP_XSEC(r9)
	add	r6,r6,r5		# xsec
	xor	r0,r6,r6		# 0, dependent on the result
	add	r9,r9,r0
	ld	r0,CFG_TB_UPDATE_COUNT(r9)
	cmpld	r0,r8
	bne-	1b			# the kernel published meanwhile
	cmpldi	r11,0
	beq	2f
	srdi	r7,r6,20		# tv_sec
	clrldi	r5,r6,44		# xsec & 0xFFFFF
	lis	r4,15			# 1000000 = 15 << 16 | 16960
	ori	r4,r4,16960
	mulld	r5,r5,r4
	srdi	r5,r5,20		# tv_usec
	std	r7,TVAL64_TV_SEC(r11)
	std	r5,TVAL64_TV_USEC(r11)
2:	cmpldi	r10,0
	beq	3f
	lwz	r4,CFG_TZ_MINUTEWEST(r9)
	lwz	r5,CFG_TZ_DSTTIME(r9)
	stw	r4,TZONE_TZ_MINWEST(r10)
	stw	r5,TZONE_TZ_DSTTIME(r10)
3:	li	r3,0
	crclr	CR0_SO
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_gettimeofday

.else

# TB into \rhi:\rlo; \rp = data page; uses r0. The mftbu/mftbl/mftbu loop gives a
# consistent pair when the low word wraps between the two reads.
.macro READ_TB rhi, rlo, rp
.ifdef VDSO_TEST_TIMEBASE
	lwz	\rhi,CFG_TEST_TIMEBASE_HI(\rp)
	lwz	\rlo,CFG_TEST_TIMEBASE_LO(\rp)
.else
9:	mftbu	\rhi
	mftbl	\rlo
	mftbu	r0
	cmplw	r0,\rhi
	bne-	9b
.endif
.endm

V_FUNCTION_BEGIN __kernel_gettimeofday
	.cfi_startproc
	mr	r11,r3			# tv
	mr	r10,r4			# tz
	GET_DATAPAGE
	mr	r9,r3			# data page
1:	lwz	r8,CFG_TB_UPDATE_COUNT_LO(r9)
	andi.	r0,r8,1
	bne-	1b			# update in progress
	xor	r0,r8,r8		# 0, dependent on the count
	add	r9,r9,r0
	lwz	r7,CFG_TB_ORIG_STAMP_HI(r9)
	lwz	r6,CFG_TB_ORIG_STAMP_LO(r9)
	READ_TB	r4,r5,r9
	subfc	r5,r6,r5		# t = TB - stamp, low word (CA = no borrow)
	subfe.	r4,r7,r4		# high word
	bne-	5f			# t needs more than 32 bits: ask the kernel
	lwz	r6,CFG_TB_TO_XS_HI(r9)	# H
	lwz	r7,CFG_TB_TO_XS_LO(r9)	# L
	mulhwu	r4,r5,r6		# high(t*H)
	mullw	r0,r5,r6		# low(t*H)
	mulhwu	r6,r5,r7		# high(t*L)
	addc	r6,r6,r0		# CA = carry into the result word
	addze	r4,r4			# floor(t * tb_to_xs / 2^64)
	lwz	r6,CFG_STAMP_XSEC_HI(r9)
	lwz	r7,CFG_STAMP_XSEC_LO(r9)
	addc	r7,r7,r4
	addze	r6,r6			# xsec = r6:r7
	or	r0,r6,r7
	xor	r0,r0,r0		# 0, dependent on the result
	add	r9,r9,r0
	lwz	r0,CFG_TB_UPDATE_COUNT_LO(r9)
	cmplw	r0,r8
	bne-	1b			# the kernel published meanwhile
	cmplwi	r11,0
	beq	2f
	srwi	r3,r7,20		# tv_sec = xsec >> 20 (low word)
	rlwimi	r3,r6,12,0,19
	slwi	r4,r7,12		# (xsec & 0xFFFFF) << 12
	lis	r5,15			# 1000000 = 15 << 16 | 16960
	ori	r5,r5,16960
	mulhwu	r4,r4,r5		# tv_usec
	stw	r3,TVAL32_TV_SEC(r11)
	stw	r4,TVAL32_TV_USEC(r11)
2:	cmplwi	r10,0
	beq	3f
	lwz	r4,CFG_TZ_MINUTEWEST(r9)
	lwz	r5,CFG_TZ_DSTTIME(r9)
	stw	r4,TZONE_TZ_MINWEST(r10)
	stw	r5,TZONE_TZ_DSTTIME(r10)
3:	li	r3,0
	crclr	CR0_SO
	blr
5:	xor	r0,r4,r4		# a torn read can look like a large delta:
	add	r9,r9,r0		# re-check the count before asking the kernel
	lwz	r0,CFG_TB_UPDATE_COUNT_LO(r9)
	cmplw	r0,r8
	bne-	1b
	mr	r3,r11			# the syscall fallback
	mr	r4,r10
	li	r0,__NR_gettimeofday
	sc
	blr
	.cfi_endproc
V_FUNCTION_END __kernel_gettimeofday

.endif
