/*
 * Wisp MBR loader: the whole disk boot path in one 512-byte sector.
 *
 * The BIOS loads this sector at 0x7c00 and jumps to it in real mode with the
 * boot drive in DL. We:
 *   1. enable A20 and read the boot header (disk LBA 1) to 0x7e00,
 *   2. read the kernel blob with int 13h extended reads, 64 sectors at a time,
 *      into a bounce buffer at 0x8000 and copy each chunk to its physical
 *      load address (>= 1 MiB) through unreal mode,
 *   3. collect the BIOS e820 memory map (int 15h, eax=e820h),
 *   4. fill an hvm_start_info at 0x7000 (PVH boot protocol),
 *   5. switch to 32-bit protected mode with flat segments, paging off and
 *      interrupts off, and jump to the kernel's PVH entry with EBX = 0x7000.
 *
 * The disk layout and the low-memory map are described in docs/disk-image.md;
 * the constants below must match scripts/image/bootHeader.ts and
 * scripts/image/lowMemory.ts (tests/image/lowMemory.test.ts checks).
 *
 * Bytes 440..511 (disk signature, partition table, 55 AA) belong to the image
 * builder: the code must end before 440 (.org below enforces it).
 */

        .set START_INFO,   0x7000   /* struct hvm_start_info (56 bytes)      */
        .set E820_MAP,     0x7040   /* e820 entries, 24 bytes each           */
        .set E820_MAX,     96       /* table ends at 0x7940, below the MBR   */
        .set STACK_TOP,    0x7000   /* real-mode stack grows down from here  */
        .set HEADER,       0x7e00   /* boot header sector (LBA 1)            */
        .set BOUNCE,       0x8000   /* bounce buffer 0x8000..0xffff          */
        .set CHUNK,        64       /* sectors per int 13h read (32 KiB)     */

        /* Boot header fields (offsets into the sector at HEADER). */
        .set HDR_MAGIC_LO, HEADER + 0x00   /* "WISP" */
        .set HDR_MAGIC_HI, HEADER + 0x04   /* "BOOT" */
        .set HDR_VERSION,  HEADER + 0x08   /* u16 = 1 */
        .set HDR_KLBA,     HEADER + 0x10   /* u64, high half must be 0 */
        .set HDR_KSECT,    HEADER + 0x18   /* u32 */
        .set HDR_LOAD,     HEADER + 0x20   /* u64, high half must be 0 */
        .set HDR_ENTRY,    HEADER + 0x28   /* u64, high half must be 0 */
        .set HDR_CMDLINE,  HEADER + 0x80   /* NUL-terminated */

        /* struct hvm_start_info field offsets */
        .set SI_MAGIC,     0
        .set SI_VERSION,   4
        .set SI_CMDLINE,   24
        .set SI_MEMMAP,    40
        .set SI_ENTRIES,   48

        .set SEL_CODE32,   0x08
        .set SEL_DATA,     0x10

        .code16
        .text
        .globl _start
_start:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $STACK_TOP, %sp
        /*
         * No far jump to normalise CS: everything below is CS-relative
         * (near jumps and calls) or addressed through DS = 0.
         */
        cld
        sti
        mov     %dl, drive_patch + 1    /* patch the drive into read_disk */

        /* A20: ask the BIOS, fall back to the "fast A20" port. */
        mov     $0x2401, %ax
        int     $0x15
        jnc     2f
        in      $0x92, %al
        or      $2, %al
        and     $0xfe, %al              /* never pulse the reset bit */
        out     %al, $0x92
2:
        lgdt    gdtr

        /* Boot header: the preset DAP reads 1 sector from LBA 1 to 0000:7e00. */
        call    read_disk
        cmpl    $0x50534957, HDR_MAGIC_LO       /* "WISP" */
        jne     bad_header
        cmpl    $0x544f4f42, HDR_MAGIC_HI       /* "BOOT" */
        jne     bad_header
        cmpw    $1, HDR_VERSION
        jne     bad_header

        /* Kernel: EBP = sectors left, EDI = physical destination. */
        mov     HDR_KLBA, %eax
        mov     %eax, dap_lba
        movb    $(BOUNCE >> 8), dap_off + 1
        mov     HDR_KSECT, %ebp
        mov     HDR_LOAD, %edi
load_chunk:
        xor     %ecx, %ecx
        mov     $CHUNK, %cl
        cmp     %ecx, %ebp
        jae     3f
        mov     %ebp, %ecx
3:      jecxz   load_done
        mov     %cx, dap_count
        call    read_disk
        add     %ecx, dap_lba
        sub     %ecx, %ebp
        shl     $7, %ecx                /* sectors -> dwords */
        /*
         * Unreal mode, redone for every chunk because a BIOS call may have
         * reset the segment caches: enter protected mode, load ES with the
         * flat 4 GiB data segment, leave again. ES keeps base 0 and a 4 GiB
         * limit, so EDI can address the kernel's load area from real mode.
         * Interrupts stay off until the copy is done.
         */
        cli
        mov     %cr0, %eax
        or      $1, %al
        mov     %eax, %cr0
        push    $SEL_DATA
        pop     %es
        and     $0xfe, %al
        mov     %eax, %cr0
        mov     $BOUNCE, %esi
        addr32  rep movsl               /* ECX dwords from DS:ESI to ES:EDI */
        sti
        jmp     load_chunk
load_done:
        push    %ds                     /* ES = 0 again (base 0, real mode) */
        pop     %es

        /* hvm_start_info: zero it (and the first e820 slot), then fill. */
        mov     $START_INFO, %di
        xor     %ax, %ax
        mov     $(E820_MAP - START_INFO) / 2, %cx
        rep     stosw                   /* leaves DI = E820_MAP */

        /* e820: EBX = continuation, BP = entries stored. */
        xor     %ebx, %ebx
        xor     %bp, %bp
e820_next:
        movl    $0, 20(%di)             /* ACPI 3 extended attributes / reserved */
        mov     $0xe820, %eax
        mov     $24, %ecx
        mov     $0x534d4150, %edx       /* "SMAP" */
        int     $0x15
        jc      e820_done               /* error or past the last entry */
        cmp     $0x534d4150, %eax
        jne     e820_done
        add     $24, %di
        inc     %bp
        test    %ebx, %ebx
        jz      e820_done
        cmp     $E820_MAX, %bp
        jb      e820_next
e820_done:
        mov     $START_INFO, %bx
        movl    $0x336ec578, SI_MAGIC(%bx)
        movb    $1, SI_VERSION(%bx)
        movw    $HDR_CMDLINE, SI_CMDLINE(%bx)
        movw    $E820_MAP, SI_MEMMAP(%bx)
        mov     %bp, SI_ENTRIES(%bx)

        /* PVH entry state: 32-bit protected mode, flat segments, IF=0. */
        cli
        mov     %cr0, %eax
        or      $1, %al
        mov     %eax, %cr0
        ljmp    $SEL_CODE32, $pm32

        .code32
pm32:
        push    $SEL_DATA
        pop     %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %eax, %fs
        mov     %eax, %gs
        mov     $START_INFO, %ebx
        jmp     *HDR_ENTRY

        .code16
/* int 13h AH=42h with the DAP below; all registers preserved; fails loudly. */
read_disk:
        pushal
        mov     $dap, %si
drive_patch:
        mov     $0x80, %dl              /* immediate patched at start */
        mov     $0x42, %ah
        int     $0x13
        popal
        jc      disk_error
        ret

disk_error:
        mov     $msg_disk, %si
        jmp     fail
bad_header:
        mov     $msg_header, %si
/* Print the NUL-terminated string at SI on COM1 and the screen, then halt. */
fail:
        lodsb
        test    %al, %al
        jz      halt
        mov     $0x3f8, %dx
        out     %al, %dx
        mov     $0x0e, %ah
        mov     $0x0007, %bx
        int     $0x10
        jmp     fail
halt:
        cli
        hlt
        jmp     halt

msg_disk:
        .asciz  "\r\nwisp: disk error"
msg_header:
        .asciz  "\r\nwisp: no boot header"

/*
 * GDT. The null descriptor doubles as the GDTR operand (limit, base).
 * 0x08: 32-bit code, base 0, limit 4 GiB.  0x10: data, base 0, limit 4 GiB.
 */
        .p2align 3
gdt:
gdtr:
        .word   gdt_end - gdt - 1
        .long   gdt
        .word   0
        .quad   0x00cf9a000000ffff
        .quad   0x00cf92000000ffff
gdt_end:

/* int 13h extensions disk address packet; preset to read the boot header. */
dap:
        .byte   16, 0
dap_count:
        .word   1
dap_off:
        .word   HEADER
dap_seg:
        .word   0
dap_lba:
        .quad   1

        .globl  mbr_code_end
mbr_code_end:
        .org    440                     /* fails if the code grew too big */
        .org    510
        .byte   0x55, 0xaa

        .section .note.GNU-stack, "", @progbits
