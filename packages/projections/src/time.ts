/**
 * Time helpers for projections. Pure: they only transform the timestamps carried by events; the domain
 * never reads a clock. Stored times are ISO-8601 UTC normalised to milliseconds
 * (`YYYY-MM-DDTHH:MM:SS.sssZ`) so that they compare correctly as strings in SQL.
 */

/** Normalises an ISO-8601 UTC timestamp (`...Z`, any fraction digits) to exactly three fraction digits. */
export function normalizeTs(iso: string): string {
  if (iso.length === 24 && iso[19] === '.') return iso;
  const base = iso.slice(0, 19);
  if (iso.length === 20) return `${base}.000Z`;
  const fraction = iso.slice(20, iso.length - 1);
  return `${base}.${(fraction + '000').slice(0, 3)}Z`;
}

/** Whole minutes from `from` to `to` (may be negative when the data is out of order). */
export function minutesBetween(from: string, to: string): number {
  return Math.floor((Date.parse(to) - Date.parse(from)) / 60_000);
}

/** Fractional days from `from` to `to`. */
export function daysBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 86_400_000;
}

/** `iso` plus `minutes`, normalised. */
export function addMinutes(iso: string, minutes: number): string {
  return new Date(Date.parse(iso) + minutes * 60_000).toISOString();
}

/** `YYYY-MM` of a timestamp or date (UTC). */
export const monthOf = (iso: string): string => iso.slice(0, 7);

/** `YYYY-MM-DD` of a timestamp (UTC). */
export const dayOf = (iso: string): string => iso.slice(0, 10);
