/* Test fixture for `vdsotool dump`: kernel-style signal-trampoline CFI written from the
   ABI description (reference section 6.3), with an expression that uses DW_OP_skip to
   jump backwards into another expression's bytes, as the kernel's vector registers do.
   DWARF operands are in the target's byte order, so the 16-bit displacement is a .short:
   the same source assembles for ppc32, ppc64 and ppc64le. */
	.text
	.globl	tramp
	.type	tramp,@function
	nop
tramp:
	li	0,172
	sc
	.size	tramp,.-tramp

	.section .eh_frame,"a",@progbits
.Lcie:	.long	.Lcie_end-.Lcie_start
.Lcie_start:
	.long	0
	.byte	1
	.string	"zRS"
	.uleb128 4
	.sleb128 -8
	.byte	67
	.uleb128 1
	.byte	0x1b
	.byte	0x0c, 1, 0
	.balign	8
.Lcie_end:
.Lfde:	.long	.Lfde_end-.Lfde_start
.Lfde_start:
	.long	.Lfde_start-.Lcie
	.long	tramp-4-.
	.long	12
	.uleb128 0
	/* CFA = *(*(r1+352)+8) */
	.byte	0x0f, 7, 0x71, 0xe0, 0x02, 0x06, 0x23, 8, 0x06
	/* r2 saved at gregs+16 */
	.byte	0x10, 2, 6, 0x71, 0xe0, 0x02, 0x06, 0x23, 16
	/* v0 (77): gregs + 0x400 */
.Lv0:	.byte	0x10, 77, 7, 0x71, 0xe0, 0x02, 0x06, 0x23, 0x80, 0x08
	/* v1 (78): push 16 then skip back into v0's body (to its breg1) */
	.byte	0x10, 78, 5, 0x40, 0x2f
	.short	-14
	.byte	0x22
	.byte	0x44	/* advance_loc 4*4 */
	.byte	0x10, 65, 2, 0x71, 0x08
	.byte	0x0a, 0x08, 65, 0x0b
	.balign	8
.Lfde_end:
	.long	0
