/*
 * A signal handler leaves through the vDSO trampoline and qemu-user's (rt_)sigreturn takes
 * the program back to the interrupted code.
 *
 * What it proves: interrupt_me (entry.S) loads distinctive values into the GPRs, FPRs, VRs,
 * CR, LR, CTR, XER and VRSAVE and executes a trap.  The SIGTRAP handler finds the frame
 * through the layout data (sigframe_layout.h, generated from vdsotool/abi/sigframes.py):
 * the handler's context argument (r4 = sigcontext, or r5 = ucontext for an RT frame) is
 * context_at bytes above the frame, the register block pointer is at ptregs, the block
 * where gregs_at says, and it must hold the trapped registers in the layout's slots (CR at
 * the layout's cr offset, FPRs at fpr0, the VMX block inline or through v_regs at vregs,
 * where vmx_at says, VRSAVE at vrsave; qemu does not save VSCR).  It then changes some of
 * them in the frame - NIP to resume_after_trap, r5, r20, r31, CR, LR, CTR, f3, f20, v3,
 * v25, VRSAVE - and jumps to the image's
 * trampoline with r1 at the frame, as a handler's blr to the kernel-set LR would.  The
 * trampoline's syscall (119 sigreturn / 172 rt_sigreturn) and the r1 it leaves must make
 * qemu restore exactly the changed register file, which interrupt_me stores on resuming.
 *
 * qemu-user 7.2 does not map a vDSO on PowerPC: it enters handlers with LR at its own
 * on-stack trampoline.  Its ppc64 rt frame deviates from the kernel's: it leaves 16 more
 * bytes below the rt_sigframe (r1 + 144, not r1 + 128) and its rt_sigreturn reads the
 * frame at r1 + 144 because its trampoline does not pop the dummy frame.  The handler
 * measures that distance ("note context-above-r1") and, for qemu's ppc64 frame, enters the
 * trampoline 128 bytes lower, so that the trampoline's own "addi r1,r1,128" lands r1
 * exactly where qemu reads: the pop is still checked, only its origin is moved.
 *
 *   harness sigreturn IMAGE LAYOUT TRAMP_OFF
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct {
	const struct frame_layout *layout;
	unsigned char *tramp;
	int rt;
	struct regs in, out, expected;
	word sp_at_trap;
	int handled;
} run;

static word gregs_get(unsigned char *gregs, int slot)
{
	word v;
	memcpy(&v, gregs + slot * run.layout->regsize, sizeof v);
	return v;
}

static void gregs_set(unsigned char *gregs, int slot, word v)
{
	memcpy(gregs + slot * run.layout->regsize, &v, sizeof v);
}

static uint32_t cr_get(unsigned char *gregs)
{
	uint32_t v;
	memcpy(&v, gregs + run.layout->cr, 4);
	return v;
}

/* The VMX block: inline in the 32-bit mcontext, through the v_regs pointer in 64-bit. */
static unsigned char *vmx_block(unsigned char *gregs)
{
	unsigned char *vmx = gregs + run.layout->vregs;
	if (run.layout->vregs_is_pointer)
		memcpy(&vmx, vmx, sizeof vmx);
	return vmx;
}

static void check_trapped_vector_registers(unsigned char *frame, unsigned char *gregs)
{
	char what[64];
	unsigned char *vmx = vmx_block(gregs);
	check("frame msr has MSR_VEC", (gregs_get(gregs, SLOT_MSR) & MSR_VEC) != 0, 1);
	check("VMX block at vmx_at", (word)vmx, (word)(frame + run.layout->vmx_at));
	for (int n = 0; n < 32; n++) {
		snprintf(what, sizeof what, "frame v%d", n);
		check(what, memcmp(vmx + 16 * n, run.in.vr[n], 16) == 0, 1);
	}
	uint32_t vrsave;
	memcpy(&vrsave, vmx + run.layout->vrsave, 4);
	check("frame vrsave", vrsave, run.in.vrsave);
}

static void check_trapped_registers(unsigned char *gregs)
{
	const struct frame_layout *L = run.layout;
	char what[64];
	check("saved NIP is the trap", gregs_get(gregs, SLOT_NIP), (word)trap_site);
	for (int n = 0; n < 32; n++) {
		if (n == 1 || n == 2 || n == 13)
			continue; /* not loaded by interrupt_me */
		snprintf(what, sizeof what, "frame r%d", n);
		check(what, gregs_get(gregs, n), run.in.gpr[n]);
	}
	check("frame cr (layout cr offset)", cr_get(gregs), (uint32_t)run.in.cr);
	check("frame lr", gregs_get(gregs, SLOT_LINK), run.in.lr);
	check("frame ctr", gregs_get(gregs, SLOT_CTR), run.in.ctr);
	for (int n = 0; n < 32; n++) {
		uint64_t v;
		memcpy(&v, gregs + L->fpr0 + 8 * n, 8);
		snprintf(what, sizeof what, "frame f%d", n);
		check(what, v, run.in.fpr[n]);
	}
}

/* Change some registers in the frame; sigreturn must hand these back. */
static void modify_frame(unsigned char *gregs)
{
	run.expected = run.in;
	gregs_set(gregs, SLOT_NIP, (word)resume_after_trap);
	static const int changed[] = {5, 20, 31};
	for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
		int n = changed[i];
		run.expected.gpr[n] = run.in.gpr[n] ^ (word)0x5a5a5a5a5a5a5a5aULL;
		gregs_set(gregs, n, run.expected.gpr[n]);
	}
	uint32_t cr = 0x87654321;
	memcpy(gregs + run.layout->cr, &cr, 4);
	run.expected.cr = cr;
	run.expected.lr = (word)0x0123456789abcdefULL;
	gregs_set(gregs, SLOT_LINK, run.expected.lr);
	run.expected.ctr = (word)0x1122334455667788ULL;
	gregs_set(gregs, SLOT_CTR, run.expected.ctr);
	static const int changed_fprs[] = {3, 20};
	for (size_t i = 0; i < 2; i++) {
		int n = changed_fprs[i];
		run.expected.fpr[n] = run.in.fpr[n] ^ 0x000fffff00000000ULL;
		memcpy(gregs + run.layout->fpr0 + 8 * n, &run.expected.fpr[n], 8);
	}
	unsigned char *vmx = vmx_block(gregs);
	static const int changed_vrs[] = {3, 25};
	for (size_t i = 0; i < 2; i++) {
		int n = changed_vrs[i];
		for (int b = 0; b < 16; b++)
			run.expected.vr[n][b] = run.in.vr[n][b] ^ 0xa5;
		memcpy(vmx + 16 * n, run.expected.vr[n], 16);
	}
	run.expected.vrsave = 0x0ff00ff0;
	memcpy(vmx + run.layout->vrsave, &run.expected.vrsave, 4);
}

/* Called by signal_entry (entry.S) with the handler's arguments and its entry r1. */
void on_signal(int sig, void *arg1, void *arg2, unsigned char *r1)
{
	const struct frame_layout *L = run.layout;
	unsigned char *context = run.rt ? arg2 : arg1;
	unsigned char *frame = context - L->context_at; /* r1 as the kernel sets it */
	run.handled = 1;
	check("signal", sig, SIGTRAP);
	note("context-above-r1", (word)(context - r1));
	unsigned char *gregs;
	memcpy(&gregs, frame + L->ptregs, sizeof gregs);
	check("regs pointer at r1+ptregs -> gregs_at", (word)gregs, (word)(frame + L->gregs_at));
	check_trapped_registers(gregs);
	check_trapped_vector_registers(frame, gregs);
	run.sp_at_trap = gregs_get(gregs, 1);
	modify_frame(gregs);
	fflush(stdout);
	unsigned char *entry = frame;
	if (frame != r1 && L->regsize == 8)
		entry = r1 - 128; /* qemu's ppc64 frame: see the comment at the top */
	leave_through(run.tramp, entry);
}

static void fill_registers(struct regs *r)
{
	memset(r, 0, sizeof *r);
	for (int n = 0; n < 32; n++) {
		r->gpr[n] = (word)(0x0101010101010101ULL * (uint64_t)(n + 0x31));
		r->fpr[n] = 0x3ff0000000000000ULL | (uint64_t)(n + 1) * 0x0000001010101011ULL;
	}
	r->cr = 0x13572468;
	r->lr = (word)0x0badc0de0badc0deULL;
	r->ctr = (word)0x00c0ffee00c0ffeeULL;
	r->xer = 0x20000000; /* CA */
	for (int n = 0; n < 32; n++)
		for (int b = 0; b < 16; b++)
			r->vr[n][b] = (unsigned char)(n * 7 + b * 13 + 1);
	r->vrsave = 0xc3c3a5a5;
}

static void compare_resumed_registers(void)
{
	char what[64];
	for (int n = 0; n < 32; n++) {
		if (n == 1 || n == 2 || n == 13)
			continue;
		snprintf(what, sizeof what, "resumed r%d", n);
		check(what, run.out.gpr[n], run.expected.gpr[n]);
	}
	check("resumed r1", run.out.gpr[1], run.sp_at_trap);
	check("resumed cr", (uint32_t)run.out.cr, (uint32_t)run.expected.cr);
	check("resumed lr", run.out.lr, run.expected.lr);
	check("resumed ctr", run.out.ctr, run.expected.ctr);
	check("resumed xer", run.out.xer, run.expected.xer);
	for (int n = 0; n < 32; n++) {
		snprintf(what, sizeof what, "resumed f%d", n);
		check(what, run.out.fpr[n], run.expected.fpr[n]);
	}
	for (int n = 0; n < 32; n++) {
		snprintf(what, sizeof what, "resumed v%d", n);
		check(what, memcmp(run.out.vr[n], run.expected.vr[n], 16) == 0, 1);
	}
	check("resumed vrsave", run.out.vrsave, run.expected.vrsave);
}

int sigreturn_main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: sigreturn IMAGE LAYOUT TRAMP_OFF\n");
		return 2;
	}
	run.layout = find_layout(argv[2]);
	run.rt = strncmp(run.layout->name, "rt_", 3) == 0;
	unsigned char *base = map_image(argv[1], 0);
	run.tramp = base + parse_number(argv[3]);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	/* without SA_SIGINFO a 32-bit process gets the non-RT frame (sigreturn) */
	sa.sa_flags = run.rt ? SA_SIGINFO : 0;
	sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))signal_entry;
	if (sigaction(SIGTRAP, &sa, NULL) != 0) {
		perror("sigaction");
		return 2;
	}
	fill_registers(&run.in);
	interrupt_me(&run.in, &run.out);
	check("handler ran", run.handled, 1);
	compare_resumed_registers();
	finish();
}
