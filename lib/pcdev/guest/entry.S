/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest entry: the VMM starts the vCPU here in 64-bit mode with RSP at the
 * stack top and RDI = control block. Keep the ABI's 16-byte stack alignment
 * at the call and never return.
 */
	.section .text.entry, "ax"
	.globl _start
	.code64
_start:
	andq	$-16, %rsp
	call	guest_main
1:	cli
	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
