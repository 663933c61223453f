# Every directive and instruction form the vDSO sources use, plus the tricky ones.
	.machine power4
	.file	"forms.S"
	.set	SIXTEEN, 0x10
	COUNT = 3
	.macro	LOADK reg, val=7
	li	\reg, \val
	.endm
	.text
	.globl	func
	.type	func,@function
func:
	.cfi_startproc
	nop; li r0,119; sc
	addi	r1,r1,128
	mflr	r0
	.cfi_register lr,r0
	bcl	20,31,1f
1:	mflr	r3
	mtlr	r0
	.cfi_restore lr
	lwz	r4,SIXTEEN(r3)
	add	r3,r3,r4
	mftb	r5
	mftbu	r6
	mulhwu	r7,r5,r6
	mullw	r8,r5,r6
	rlwinm	r9,r8,2,0,29
	srwi	r9,r9,1
	slwi	r9,r9,1
	srwi.	r9,r9,1
	cmpw	cr7,r3,r4
	cmplw	r3,r4
	cmpwi	r3,0
	cmplwi	cr1,r3,0x10
	andi.	r3,r3,0xff
	xor	r3,r3,r3
	or	r3,r4,r4
	addc	r3,r3,r4
	adde	r3,r3,r4
	addze	r3,r3
	subf	r3,r4,r5
	subfc	r3,r4,r5
	subfe	r3,r4,r5
	lis	r3,(0x12345678)@ha
	addi	r3,r3,(0x12345678)@l
	ori	r3,r3,0x5678@l
	oris	r3,r3,0x12345678@h
	mr	r31,r3
	mfcr	r4
	mtcrf	0x80,r4
	mtcrf	0xff,r4
	crclr	so
	crset	4*cr7+eq
	crxor	cr0*4+so,cr0*4+so,cr0*4+so
	LOADK	r3
	LOADK	r4, 9
	.rept	COUNT
	nop
	.endr
	.irp	reg, r5, r6
	li	\reg, 0
	.endr
2:	beq	2b
	bne-	2b
	beq+	cr7,3f
	bne	cr1,3f
	bdnz	2b
	bdnz+	2b
	bdnz-	2b
	ble	3f
	bl	func
3:	mtctr	r3
	bctr
	beqlr
	bnelr-	cr7
	dcbst	0,r3
	icbi	0,r3
	sync
	isync
	.if	COUNT > 2
	li	r3,1
	.elseif COUNT == 2
	li	r3,2
	.else
	li	r3,3
	.endif
	.ifdef	SIXTEEN
	li	r3,'A'
	.endif
	.ifndef	NOPE
	li	r3,0b101 + 017 - (~0) * 2 % 5
	.endif
	.balign	16
	blr
	.cfi_endproc
	.size	func,.-func

	.section .rodata,"a",@progbits
	.byte	1, 2, -1
	.short	0x1234
	.2byte	5
	.long	0x12345678, 3b - func
	.4byte	7
	.int	8
	.ascii	"ab\n"
	.asciz	"tab\there"
	.string	"x\101\x42"
	.uleb128 624485
	.sleb128 -123456
	.p2align 3
	.quad	0x1122334455667788
	.8byte	-2
	.align	2
	.space	3
	.skip	2, 0xaa
	.zero	1
	.fill	2, 4, 0x11
	.org	. + 4
	.pushsection .note.test,"a",@note
	.long	4
	.popsection
	.byte	9
	.previous
	nop
	.previous
	.byte	10
	.section .rodata,"a",@progbits
	.long	ext_sym - .
	.long	func - . + 8
