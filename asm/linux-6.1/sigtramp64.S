# 64-bit signal trampoline of Linux 6.1 (modern-vdso-abi.md 5.3); ppc64 and ppc64le.
#
# Since 5.9 the kernel enters a signal handler through the trampoline: it sets NIP to
# __kernel_start_sigtramp_rt64 (the bctrl, the kernel's offset "sigtramp_rt64") and CTR to
# the handler, so the call and its return stay balanced in the CPU's return predictor. The
# handler returns to __kernel_sigtramp_rt64, which pops the 128-byte dummy frame and asks
# for rt_sigreturn. The FDE covers bctrl..sc (an unwinder looks up PC-1 of the return
# address, the bctrl); its CFI is generated (vdso_sigframe.inc).
	.include "vdso_target.inc"
	.include "vdso_abi.inc"
	.include "vdso_datapage.inc"
	.include "vdso_macros.inc"
	.include "vdso_sigframe.inc"

# The ELF ABI of the 64-bit image: ELFv2 for ppc64le (e_flags 2), ELFv1 for ppc64 as 6.1's
# ppc64_defconfig builds it (e_flags 1). No code depends on it: nothing uses r2 or r12.
.if TARGET_LITTLE_ENDIAN
	.abiversion 2
.else
	.abiversion 1
.endif

	.text
	.balign	16			# 8 for the old layout, 16 for POWER's instruction fetch

	.cfi_startproc
	.cfi_signal_frame
	.cfi_return_column 67		# "ap", used for the saved NIP
	VDSO_SIGFRAME_CFI_RT64
	.globl	__kernel_start_sigtramp_rt64	# for the linker script; not exported
	.type	__kernel_start_sigtramp_rt64,@function
__kernel_start_sigtramp_rt64:
	bctrl				# call the handler
	.size	__kernel_start_sigtramp_rt64,.-__kernel_start_sigtramp_rt64
V_FUNCTION_BEGIN __kernel_sigtramp_rt64
	addi	r1,r1,128		# __SIGNAL_FRAMESIZE: pop the dummy frame
	li	r0,__NR_rt_sigreturn
	sc
V_FUNCTION_END __kernel_sigtramp_rt64
	.cfi_endproc

# The old on-stack trampoline's tail: older libgcc reads pinfo/puc after it; puc = -21*8
# makes them compute a NULL sigcontext, newer libgcc recognises it as the vDSO marker.
	.long	0,0,0
	.quad	0,-21*8
