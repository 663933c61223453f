# PLACEHOLDER written by the sources engineer so the images link: the signal-frame
# engineer owns this file and replaces it with the real trampoline and its CFI.
	.include "vdso_target.inc"
	.include "vdso_macros.inc"
	.text
	nop
V_FUNCTION_BEGIN __kernel_sigtramp_rt64
	addi	r1,r1,128		# __SIGNAL_FRAMESIZE
	li	r0,172			# __NR_rt_sigreturn
	sc
V_FUNCTION_END __kernel_sigtramp_rt64
