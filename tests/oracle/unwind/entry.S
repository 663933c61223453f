/*
 * Register-level entry points of the signal-frame harnesses (unwind.c, sigreturn.c).
 * C cannot set r1 or choose its own return address; these few instructions do, so the C
 * code around them can stand exactly where the kernel leaves a signal handler:
 *
 *   enter_signal_frame(frame, tramp)  r1 = frame, LR = tramp, then branch (not call) to
 *                                     unwind_here(): that function's return address is
 *                                     the vDSO trampoline and its caller's r1 the frame,
 *                                     as for a handler the kernel entered.
 *   leave_through(tramp, frame)       r1 = frame, jump to tramp: what a handler's final
 *                                     blr does with the LR the kernel set.
 *   signal_entry(sig, a, b)           the signal handler: calls on_signal(sig, a, b, r1)
 *                                     with the r1 it was entered with (the frame).
 *   interrupted_code                  a label in .text: the readable "interrupted PC"
 *                                     the unwinder harness stores in the frame.
 *   interrupt_me(in, out)             loads every GPR (but r1, r2, r13), FPR, VR, CR, LR,
 *                                     CTR, XER, VRSAVE from *in, executes a trap
 *                                     (SIGTRAP), and stores them to *out after the
 *                                     handler's sigreturn resumes at resume_after_trap.
 */
#ifdef __powerpc64__
#define WORD 8
#define LOAD ld
#define STORE std
#define STORE_UPDATE stdu
#define LR_SAVE 16
#else
#define WORD 4
#define LOAD lwz
#define STORE stw
#define STORE_UPDATE stwu
#define LR_SAVE 4
#endif

#if defined(__powerpc64__) && _CALL_ELF != 2
/* ELFv1: a C-callable symbol is a function descriptor in .opd; code at .L.name */
#define FUNC(name) \
	.section ".opd","aw"; .align 3; .globl name; .type name,@function; \
name:	.quad .L.name,.TOC.@tocbase,0; .previous; .L.name:
#else
#define FUNC(name) .globl name; .type name,@function; name:
#endif

	.section .note.GNU-stack,"",@progbits
	.text

FUNC(enter_signal_frame)
	mtlr	%r4
	mr	%r1,%r3
	b	unwind_here

FUNC(leave_through)
	mtctr	%r3
	mr	%r1,%r4
	bctr

/* The SIGTRAP handler: hands its entry r1 (the signal frame) to on_signal as 4th arg. */
FUNC(signal_entry)
	mr	%r6,%r1
	b	on_signal

	.globl	interrupted_code
interrupted_code:
	nop
	nop
	nop
	nop
	trap

/* struct regs layout (harness.h): gpr[32] words, then cr, lr, ctr, xer words,
 * then fpr[32] doubles (8-aligned), the vrsave word, vr[32] (16-aligned). */
#define R_GPR(n)	((n) * WORD)
#define R_CR		(32 * WORD)
#define R_LR		(33 * WORD)
#define R_CTR		(34 * WORD)
#define R_XER		(35 * WORD)
#define R_FPR(n)	(36 * WORD + (n) * 8)
#define R_VRSAVE	(36 * WORD + 32 * 8)
#define R_VR(n)		(R_VRSAVE + 16 + (n) * 16)

/* interrupt_me's stack frame: back chain and ABI header, then our save areas */
#define F_OUT		(64)
#define F_TMP		(F_OUT + WORD)
#define F_GPRS		(F_OUT + 2 * WORD)		/* r14-r31 (callee-saved) */
#define F_FPRS		(F_GPRS + 18 * WORD + 8)	/* f14-f31 */
#define F_CR		(F_FPRS + 18 * 8)
#define F_VRSAVE	(F_CR + WORD)
#define F_VRS		((F_VRSAVE + 4 + 15) & ~15)	/* v20-v31 (callee-saved) */
#define F_SIZE		(F_VRS + 12 * 16)

#define SAVE_GPR(n)	STORE %r##n, F_GPRS + ((n) - 14) * WORD(%r1)
#define REST_GPR(n)	LOAD %r##n, F_GPRS + ((n) - 14) * WORD(%r1)
#define SAVE_FPR(n)	stfd %f##n, F_FPRS + ((n) - 14) * 8(%r1)
#define REST_FPR(n)	lfd %f##n, F_FPRS + ((n) - 14) * 8(%r1)
#define LOAD_GPR(n)	LOAD %r##n, R_GPR(n)(%r3)
#define LOAD_FPR(n)	lfd %f##n, R_FPR(n)(%r3)
#define OUT_GPR(n)	STORE %r##n, R_GPR(n)(%r31)
#define OUT_FPR(n)	stfd %f##n, R_FPR(n)(%r31)
/* vector registers through r0 as the index (lvx/stvx have no displacement) */
#define SAVE_VR(n)	li %r0,F_VRS + ((n) - 20) * 16; stvx %v##n,%r1,%r0
#define REST_VR(n)	li %r0,F_VRS + ((n) - 20) * 16; lvx %v##n,%r1,%r0
#define LOAD_VR(n)	li %r0,R_VR(n); lvx %v##n,%r3,%r0
#define OUT_VR(n)	li %r0,R_VR(n); stvx %v##n,%r31,%r0
#define EACH_CALLEE_SAVED_VR(M) M(20); M(21); M(22); M(23); M(24); M(25); M(26); \
	M(27); M(28); M(29); M(30); M(31)
#define EACH_VOLATILE_VR(M) M(0); M(1); M(2); M(3); M(4); M(5); M(6); M(7); M(8); \
	M(9); M(10); M(11); M(12); M(13); M(14); M(15); M(16); M(17); M(18); M(19)
#define EACH_CALLEE_SAVED(M) M(14); M(15); M(16); M(17); M(18); M(19); M(20); M(21); \
	M(22); M(23); M(24); M(25); M(26); M(27); M(28); M(29); M(30); M(31)

FUNC(interrupt_me)
	STORE_UPDATE %r1,-F_SIZE(%r1)
	mflr	%r0
	STORE	%r0,F_SIZE+LR_SAVE(%r1)
	EACH_CALLEE_SAVED(SAVE_GPR)
	EACH_CALLEE_SAVED(SAVE_FPR)
	mfcr	%r0
	STORE	%r0,F_CR(%r1)
	mfvrsave %r0
	stw	%r0,F_VRSAVE(%r1)
	EACH_CALLEE_SAVED_VR(SAVE_VR)
	STORE	%r4,F_OUT(%r1)

	EACH_VOLATILE_VR(LOAD_VR); EACH_CALLEE_SAVED_VR(LOAD_VR)
	lwz	%r0,R_VRSAVE(%r3)
	mtvrsave %r0

	LOAD_FPR(0); LOAD_FPR(1); LOAD_FPR(2); LOAD_FPR(3); LOAD_FPR(4); LOAD_FPR(5)
	LOAD_FPR(6); LOAD_FPR(7); LOAD_FPR(8); LOAD_FPR(9); LOAD_FPR(10); LOAD_FPR(11)
	LOAD_FPR(12); LOAD_FPR(13); EACH_CALLEE_SAVED(LOAD_FPR)
	LOAD	%r0,R_CR(%r3)
	mtcr	%r0
	LOAD	%r0,R_LR(%r3)
	mtlr	%r0
	LOAD	%r0,R_CTR(%r3)
	mtctr	%r0
	LOAD	%r0,R_XER(%r3)
	mtxer	%r0
	LOAD_GPR(0); LOAD_GPR(4); LOAD_GPR(5); LOAD_GPR(6); LOAD_GPR(7); LOAD_GPR(8)
	LOAD_GPR(9); LOAD_GPR(10); LOAD_GPR(11); LOAD_GPR(12); EACH_CALLEE_SAVED(LOAD_GPR)
	LOAD_GPR(3)
	.globl	trap_site
trap_site:
	trap				/* SIGTRAP; the handler resumes us below */
	.long	0			/* never executed: not an instruction */
	.globl	resume_after_trap
resume_after_trap:
	STORE	%r31,F_TMP(%r1)
	LOAD	%r31,F_OUT(%r1)
	OUT_GPR(0); OUT_GPR(2); OUT_GPR(3); OUT_GPR(4); OUT_GPR(5); OUT_GPR(6); OUT_GPR(7)
	OUT_GPR(8); OUT_GPR(9); OUT_GPR(10); OUT_GPR(11); OUT_GPR(12); OUT_GPR(13)
	OUT_GPR(14); OUT_GPR(15); OUT_GPR(16); OUT_GPR(17); OUT_GPR(18); OUT_GPR(19)
	OUT_GPR(20); OUT_GPR(21); OUT_GPR(22); OUT_GPR(23); OUT_GPR(24); OUT_GPR(25)
	OUT_GPR(26); OUT_GPR(27); OUT_GPR(28); OUT_GPR(29); OUT_GPR(30)
	LOAD	%r0,F_TMP(%r1)
	STORE	%r0,R_GPR(31)(%r31)
	STORE	%r1,R_GPR(1)(%r31)
	mfcr	%r0
	STORE	%r0,R_CR(%r31)
	mflr	%r0
	STORE	%r0,R_LR(%r31)
	mfctr	%r0
	STORE	%r0,R_CTR(%r31)
	mfxer	%r0
	STORE	%r0,R_XER(%r31)
	OUT_FPR(0); OUT_FPR(1); OUT_FPR(2); OUT_FPR(3); OUT_FPR(4); OUT_FPR(5); OUT_FPR(6)
	OUT_FPR(7); OUT_FPR(8); OUT_FPR(9); OUT_FPR(10); OUT_FPR(11); OUT_FPR(12)
	OUT_FPR(13); EACH_CALLEE_SAVED(OUT_FPR)
	EACH_VOLATILE_VR(OUT_VR); EACH_CALLEE_SAVED_VR(OUT_VR)
	mfvrsave %r0
	stw	%r0,R_VRSAVE(%r31)

	LOAD	%r0,F_CR(%r1)
	mtcr	%r0
	lwz	%r0,F_VRSAVE(%r1)
	mtvrsave %r0
	EACH_CALLEE_SAVED_VR(REST_VR)
	EACH_CALLEE_SAVED(REST_FPR)
	EACH_CALLEE_SAVED(REST_GPR)
	LOAD	%r0,F_SIZE+LR_SAVE(%r1)
	mtlr	%r0
	addi	%r1,%r1,F_SIZE
	blr
