// The kind-length-value option lists IPv4 and TCP headers share: kind 0 ends
// the list, kind 1 is a one-byte pad, any other kind is followed by a length
// byte that counts the kind and length bytes too.
import { EBADMSG } from "../errno";

export const OPTION_END: u32 = 0;
export const OPTION_NOP: u32 = 1;

/**
 * Bytes taken by the option at `o` in a list ending at `end`: 1 for a pad,
 * 0 at the end of the list, -EBADMSG when its length is impossible.
 */
export function optionLength(o: usize, end: usize): i32 {
  let kind = <u32>load<u8>(o);
  if (kind == OPTION_END) return 0;
  if (kind == OPTION_NOP) return 1;
  if (o + 1 >= end) return -EBADMSG;
  let length = <u32>load<u8>(o, 1);
  if (length < 2 || o + length > end) return -EBADMSG;
  return <i32>length;
}
