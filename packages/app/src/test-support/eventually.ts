/** Probes every 200 ms until `ok` holds or `ms` passed; returns the last probe (the spec asserts on it). */
export async function eventually<T>(probe: () => Promise<T>, ok: (t: T) => boolean, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const t = await probe();
    if (ok(t) || Date.now() > until) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}
