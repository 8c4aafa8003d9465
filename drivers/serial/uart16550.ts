// 16550 UART on I/O ports (COM1 at 0x3f8): the kernel console on every
// machine type QEMU offers (microvm, q35, pc).
import { inb, outb, pause, rdtsc } from "../../arch/x86_64/cpu";

export const COM1: u32 = 0x3f8;

const DATA: u32 = 0;
const INTERRUPT_ENABLE: u32 = 1;
const FIFO_CONTROL: u32 = 2;
const LINE_CONTROL: u32 = 3;
const MODEM_CONTROL: u32 = 4;
const LINE_STATUS: u32 = 5;
const TRANSMIT_EMPTY: u32 = 0x20;
// A stuck or absent UART must not hang the kernel: give up on a byte after
// this many TSC ticks (0.1-0.3 s at 1-3 GHz), long enough that a host slow to
// drain the console does not lose output.
const MAX_TRANSMIT_WAIT: u64 = 1 << 28;

/** 115200 8N1, FIFOs on, interrupts off (the console polls). */
export function uartInit(base: u32): void {
  outb(base + INTERRUPT_ENABLE, 0);
  outb(base + LINE_CONTROL, 0x80); // divisor latch
  outb(base + DATA, 1); // 115200 baud
  outb(base + INTERRUPT_ENABLE, 0);
  outb(base + LINE_CONTROL, 0x03);
  outb(base + FIFO_CONTROL, 0xc7);
  outb(base + MODEM_CONTROL, 0x03);
}

// Bytes that may still go into the transmit FIFO without asking the UART:
// polling the line status for every byte doubles the I/O, which is what
// console output costs in a VM.
const FIFO_BYTES: u32 = 16;
let fifoRoom: u32 = 0;

export function uartWrite(base: u32, byte: u8): void {
  if (fifoRoom == 0) {
    // Transmitter empty (with FIFOs on: the whole FIFO has drained).
    let deadline = rdtsc() + MAX_TRANSMIT_WAIT;
    while ((inb(base + LINE_STATUS) & TRANSMIT_EMPTY) == 0 && rdtsc() < deadline) pause();
    fifoRoom = FIFO_BYTES;
  }
  outb(base + DATA, byte);
  fifoRoom--;
}
