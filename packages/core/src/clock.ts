/** The clock port: adapters and services take time from here, so tests can pin it. The domain never reads it. */
export interface Clock {
  /** Now, as ISO-8601 UTC with milliseconds. */
  now(): string;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

/** A clock that returns the given instants, then keeps returning the last one; or advances by `stepMs`. */
export function fixedClock(start: string, stepMs = 0): Clock {
  let t = Date.parse(start);
  return {
    now: () => {
      const iso = new Date(t).toISOString();
      t += stepMs;
      return iso;
    },
  };
}
