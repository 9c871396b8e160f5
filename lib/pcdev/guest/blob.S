/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Embeds the flat guest image into the virtsync binary. The Makefile
 * assembles this with -I pointing at the directory of pcdev-guest.bin.
 */
	.section .rodata, "a"
	.balign 64
	.globl pcdev_guest_image
pcdev_guest_image:
	.incbin "pcdev-guest.bin"
	.globl pcdev_guest_image_end
pcdev_guest_image_end:

	.section .note.GNU-stack, "", @progbits
