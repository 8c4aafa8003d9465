// The kernel console: bytes out to the serial port, "\n" as "\r\n".
import { COM1, uartInit, uartWrite } from "../drivers/serial/uart16550";

export function consoleInit(): void {
  uartInit(COM1);
}

export function consoleWriteByte(byte: u8): void {
  if (byte == 0x0a) uartWrite(COM1, 0x0d);
  uartWrite(COM1, byte);
}

export function consoleWrite(bytes: usize, length: usize): void {
  for (let i: usize = 0; i < length; i++) consoleWriteByte(load<u8>(bytes + i));
}
