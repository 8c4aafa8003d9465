// Bisection for the smallest value that passes a probe (the ram benchmark:
// the smallest -m that still boots). The probe is assumed monotonic: if a
// value passes, every larger one does too.

export interface Probe {
  value: number;
  ok: boolean;
  /** Why it failed, as the probe said. */
  why?: string;
}

export interface BisectResult {
  /** Smallest passing value found, null if even `high` failed. */
  smallest: number | null;
  /** True when `smallest` is `low + step`: the bound, not a measured edge. */
  atLowBound: boolean;
  probes: Probe[];
}

/**
 * Finds the smallest value in (low, high] (a multiple of `step` above low)
 * for which `probe` passes. `low` is taken to fail without probing it; `high`
 * is probed first. Takes about log2((high - low) / step) + 1 probes.
 */
export async function bisectSmallest(
  low: number,
  high: number,
  step: number,
  probe: (value: number) => Promise<{ ok: boolean; why?: string }>,
): Promise<BisectResult> {
  if (!(step > 0) || !(high > low) || (high - low) % step !== 0) throw new Error(`bad bisection range (${low}, ${high}] in steps of ${step}`);
  const probes: Probe[] = [];
  const test = async (value: number): Promise<boolean> => {
    const r = await probe(value);
    probes.push(r.why === undefined ? { value, ok: r.ok } : { value, ok: r.ok, why: r.why });
    return r.ok;
  };
  if (!(await test(high))) return { smallest: null, atLowBound: false, probes };
  let fail = low; // largest value known (or assumed) to fail
  let pass = high; // smallest value known to pass
  while (pass - fail > step) {
    const mid = fail + Math.floor((pass - fail) / step / 2) * step;
    if (await test(mid)) pass = mid;
    else fail = mid;
  }
  return { smallest: pass, atLowBound: fail === low, probes };
}
