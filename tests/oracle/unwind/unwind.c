/*
 * libgcc's own unwinder walks out of a vDSO signal trampoline.
 *
 * What it proves: with the image's .eh_frame registered (__register_frame, as a static
 * program registers its own), _Unwind_Backtrace started in a "signal handler" whose return
 * address is the trampoline recovers the interrupted context from a signal frame laid out
 * exactly as the kernel lays it out: PC (the saved NIP, reported with ip_before_insn = 1: a
 * signal frame), the CFA (the saved r1, the interrupted code's stack pointer), r0/r2-r31, LR, the eight CR fields, f0-f31,
 * and the VMX registers only when the saved MSR has MSR_VEC (else the unwinder must not
 * take them from the frame).  _Unwind_Find_FDE must answer with the image's FDE starting
 * at the nop before the trampoline, so libgcc's instruction-pattern fallback for kernels
 * without CFI (ppc_fallback_frame_state) is not what recovers the registers.
 *
 * The frame is built from sigframe_layout.h (generated from vdsotool/abi/sigframes.py):
 * the pointer at r1+ptregs to the gregs block where the kernel puts it, native word stores
 * into its slots (so the CR word lands where a 64-bit kernel's unsigned long store puts it,
 * independently of the layout's cr_word), the FPR doubles, the VMX block (inline on
 * ppc32, through v_regs on ppc64) with VSCR as the low-order word of its 128-bit image.
 *
 *   harness unwind IMAGE LAYOUT TRAMP_OFF EH_FRAME_OFF EH_FRAME_END VEC
 */
#include <stdio.h>
#include <string.h>
#include <unwind.h>

#include "harness.h"

/* libgcc exports these; their declarations live in its private unwind-dw2-fde.h */
struct dwarf_eh_bases {
	void *tbase;
	void *dbase;
	void *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);
extern void __register_frame(void *begin);

enum { DW_LR = 65, DW_CR0 = 68, DW_FPR0 = 32, DW_VR0 = 77, DW_VRSAVE = 109, DW_VSCR = 110 };

static const uint32_t CR_VALUE = 0x2468ace1; /* every field distinct */
static const uint32_t VSCR_VALUE = 0x00010001;
static const uint32_t VRSAVE_VALUE = 0xfedcba98;
static const word MSR_BITS = 0xd032; /* EE, PR, ME, IR, DR, RI: a user-mode MSR */

static unsigned char stack[1 << 18] __attribute__((aligned(16)));
static unsigned char interrupted_stack[4096] __attribute__((aligned(16)));

static struct {
	const struct frame_layout *layout;
	unsigned char *frame, *tramp, *vmx;
	int vec;
	int frames_seen, trampoline_seen, interrupted_checked;
} run;

static word gpr_value(int n)
{
	if (n == 1)
		return (word)(interrupted_stack + 2048);
	return (word)(0x0101010101010101ULL * (uint64_t)(n + 0x21));
}

static uint64_t fpr_value(int n)
{
	return 0x4010000000000000ULL | (uint64_t)(n + 1) * 0x0000010101010101ULL;
}

static word link_value(void) { return (word)0x0f1e2d3c4b5a6978ULL; }

static void put_word(unsigned char *at, word value) { memcpy(at, &value, sizeof value); }

static void vr_bytes(int n, unsigned char out[16])
{
	for (int i = 0; i < 16; i++)
		out[i] = (unsigned char)((i * 0x11) ^ (n + 0x40));
}

/* The low-order 32-bit word of a 128-bit register image as stvx stores it. */
static unsigned char *low_word_of_vector(unsigned char *vector)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return vector + 12;
#else
	return vector;
#endif
}

static void build_frame(void)
{
	const struct frame_layout *L = run.layout;
	unsigned char *gregs = run.frame + L->gregs_at;

	put_word(run.frame + L->ptregs, (word)gregs);
	for (int n = 0; n < 32; n++)
		put_word(gregs + n * L->regsize, gpr_value(n));
	put_word(gregs + SLOT_NIP * L->regsize, (word)interrupted_code);
	put_word(gregs + SLOT_MSR * L->regsize, MSR_BITS | (run.vec ? MSR_VEC : 0));
	put_word(gregs + SLOT_CTR * L->regsize, (word)0x7a6b5c4d3e2f1001ULL);
	put_word(gregs + SLOT_LINK * L->regsize, link_value());
	put_word(gregs + SLOT_XER * L->regsize, 0x20000000);
	put_word(gregs + SLOT_CCR * L->regsize, CR_VALUE);
	for (int n = 0; n < 32; n++) {
		uint64_t v = fpr_value(n);
		memcpy(gregs + L->fpr0 + 8 * n, &v, 8);
	}
	run.vmx = run.frame + L->vmx_at;
	if (L->vregs_is_pointer)
		put_word(gregs + L->vregs, (word)run.vmx);
	for (int n = 0; n < 32; n++)
		vr_bytes(n, run.vmx + 16 * n);
	uint32_t vscr = VSCR_VALUE, vrsave = VRSAVE_VALUE;
	memcpy(low_word_of_vector(run.vmx + 16 * 32), &vscr, 4);
	memcpy(run.vmx + L->vrsave, &vrsave, 4);
}

/*
 * Where the unwinder takes a register from: libgcc's struct _Unwind_Context begins with
 * one pointer per DWARF column, the address of the register's saved value or NULL (every
 * GCC since 3.0).  _Unwind_GetGR only reads word-sized registers (it aborts for the
 * 4-byte CR on ppc64, the 8-byte FPRs on ppc32, the 16-byte VRs), so the rest is read
 * through this pointer; check_gprs() cross-checks it against _Unwind_GetGR.
 */
static void *saved_at(struct _Unwind_Context *ctx, int column)
{
	return ((void **)ctx)[column];
}

static uint32_t u32_at(void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t u64_at(void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void check_gprs(struct _Unwind_Context *ctx)
{
	char what[64];
	/* r1 is not read back: libgcc keeps the caller's r1 only as the CFA (checked) */
	for (int n = 0; n < 32; n++) {
		if (n == 1)
			continue;
		snprintf(what, sizeof what, "r%d", n);
		check(what, _Unwind_GetGR(ctx, n), gpr_value(n));
		snprintf(what, sizeof what, "context slot r%d", n);
		check(what, saved_at(ctx, n) ? *(word *)saved_at(ctx, n) : 0,
		      _Unwind_GetGR(ctx, n));
	}
	check("lr", _Unwind_GetGR(ctx, DW_LR), link_value());
}

static void check_cr_and_fprs(struct _Unwind_Context *ctx)
{
	char what[64];
	for (int field = 0; field < 8; field++) {
		snprintf(what, sizeof what, "cr%d", field);
		void *at = saved_at(ctx, DW_CR0 + field);
		check(what, at ? u32_at(at) : 0, CR_VALUE);
	}
	for (int n = 0; n < 32; n++) {
		snprintf(what, sizeof what, "f%d", n);
		void *at = saved_at(ctx, DW_FPR0 + n);
		check(what, at ? u64_at(at) : 0, fpr_value(n));
	}
}

/* With MSR_VEC the register must come from its place in the frame; without, from nowhere
 * (a NULL address: libgcc's "not saved"). */
static void check_vector_slot(const char *what, void *at, const void *want, size_t size)
{
	if (run.vec)
		check(what, at != NULL && memcmp(at, want, size) == 0, 1);
	else
		check(what, (word)at, 0);
}

static void check_vector_registers(struct _Unwind_Context *ctx)
{
	char what[64];
	for (int n = 0; n < 32; n++) {
		unsigned char want[16];
		vr_bytes(n, want);
		snprintf(what, sizeof what, "v%d", n);
		check_vector_slot(what, saved_at(ctx, DW_VR0 + n), want, 16);
	}
	check_vector_slot("vscr", saved_at(ctx, DW_VSCR), &VSCR_VALUE, 4);
	check_vector_slot("vrsave", saved_at(ctx, DW_VRSAVE), &VRSAVE_VALUE, 4);
}

static void check_interrupted_frame(struct _Unwind_Context *ctx)
{
	int before = 0;
	word ip = _Unwind_GetIPInfo(ctx, &before);
	check("pc", ip, (word)interrupted_code);
	check("signal frame (ip_before_insn)", before, 1);
	check("cfa", _Unwind_GetCFA(ctx), gpr_value(1));
	check_gprs(ctx);
	check_cr_and_fprs(ctx);
	check_vector_registers(ctx);
	run.interrupted_checked = 1;
}

static _Unwind_Reason_Code each_frame(struct _Unwind_Context *ctx, void *arg)
{
	(void)arg;
	int before = 0;
	word ip = _Unwind_GetIPInfo(ctx, &before);
	if (++run.frames_seen > 16)
		return _URC_END_OF_STACK;
	if (run.trampoline_seen) {
		check_interrupted_frame(ctx);
		return _URC_END_OF_STACK; /* stop: the interrupted code has no CFI */
	}
	if (ip == (word)run.tramp)
		run.trampoline_seen = 1;
	return _URC_NO_REASON;
}

/* Entered by enter_signal_frame() with r1 = the signal frame and LR = the trampoline,
 * as the kernel enters a handler; never returns (its return would run the trampoline). */
void unwind_here(void) __attribute__((noreturn, noinline, used));
void unwind_here(void)
{
	_Unwind_Backtrace(each_frame, NULL);
	check("unwound through the trampoline", run.trampoline_seen, 1);
	check("reached the interrupted frame", run.interrupted_checked, 1);
	finish();
}

static void check_fde_is_the_images(unsigned char *eh_frame, unsigned char *eh_frame_end)
{
	struct dwarf_eh_bases bases;
	const unsigned char *fde = _Unwind_Find_FDE(run.tramp, &bases);
	check("FDE found in the image's .eh_frame",
	      fde != NULL && fde >= eh_frame && fde < eh_frame_end, 1);
	check("FDE starts at the nop before the trampoline", (word)bases.func,
	      (word)(run.tramp - 4));
}

int unwind_main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: unwind IMAGE LAYOUT TRAMP_OFF EH_FRAME_OFF EH_FRAME_END VEC\n");
		return 2;
	}
	run.layout = find_layout(argv[2]);
	word eh_off = parse_number(argv[4]), eh_end = parse_number(argv[5]);
	run.vec = (int)parse_number(argv[6]);
	/* The vDSO's .eh_frame has no zero terminator (readers use .eh_frame_hdr), but
	 * __register_frame walks to one: copy the image up to the end of .eh_frame (all the
	 * unwinder and the trampoline use) and leave the following word zero. */
	unsigned char *base = map_image(argv[1], eh_end);
	run.tramp = base + parse_number(argv[3]);
	__register_frame(base + eh_off);
	check_fde_is_the_images(base + eh_off, base + eh_end);

	run.frame = stack + sizeof stack - 8192;
	build_frame();
	enter_signal_frame(run.frame, run.tramp);
}
