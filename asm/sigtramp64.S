# 64-bit signal trampoline (reference kernel-vdso-facts.md §6); serves ppc64 and ppc64le.
#
# The kernel sets LR here before entering the handler; on return r1 points at the
# 128-byte dummy frame in front of the rt signal frame.  The preceding nop is covered by
# the FDE (unwinders may look up PC-1).  The CFI is generated (vdso_sigframe.inc).
	.include "vdso_target.inc"
	.include "vdso_macros.inc"
	.include "vdso_sigframe.inc"
	.text
	.balign	8
	nop				# padding: the symbol is 8-aligned, its FDE starts 4 before

	.cfi_startproc
	.cfi_signal_frame
	.cfi_return_column 67		# "ap", used for the saved NIP
	VDSO_SIGFRAME_CFI_RT64
	nop
V_FUNCTION_BEGIN __kernel_sigtramp_rt64
	addi	r1,r1,128		# __SIGNAL_FRAMESIZE: pop the dummy frame
	li	r0,172			# __NR_rt_sigreturn
	sc
V_FUNCTION_END __kernel_sigtramp_rt64
	.cfi_endproc

# The old on-stack trampoline's tail: older libgcc reads pinfo/puc after it; puc = -21*8
# makes them compute a NULL sigcontext, newer libgcc recognises it as the vDSO marker.
	.long	0,0,0
	.quad	0,-21*8
