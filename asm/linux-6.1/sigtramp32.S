# 32-bit signal trampolines (reference kernel-vdso-facts.md §6).
#
# The kernel sets LR to one of these before entering a signal handler; the handler's
# return lands here with r1 at the signal frame, and the trampoline asks the kernel to
# restore the interrupted context.  Each is preceded by a nop that the FDE covers: an
# unwinder may look up PC-1 and must still find this FDE.  The CFI (generated, see
# vdso_sigframe.inc) marks a signal frame whose "return address" column 67 is the saved NIP.
	.include "vdso_target.inc"
	.include "vdso_abi.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"
	.include "vdso_sigframe.inc"
	.text

	.cfi_startproc
	.cfi_signal_frame
	.cfi_return_column 67		# "ap", used for the saved NIP
	VDSO_SIGFRAME_CFI_SIGRETURN32
	nop
V_FUNCTION_BEGIN __kernel_sigtramp32
	li	r0,119			# __NR_sigreturn
	sc
V_FUNCTION_END __kernel_sigtramp32
	.cfi_endproc

	.cfi_startproc
	.cfi_signal_frame
	.cfi_return_column 67
	VDSO_SIGFRAME_CFI_RT32
	nop
V_FUNCTION_BEGIN __kernel_sigtramp_rt32
	li	r0,172			# __NR_rt_sigreturn
	sc
V_FUNCTION_END __kernel_sigtramp_rt32
	.cfi_endproc
