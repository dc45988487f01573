/**
 * Rewrites positional `?` parameters to PostgreSQL's `$1, $2...`, leaving `?` inside string literals,
 * quoted identifiers, dollar-quoted strings and comments alone (so `'what?'` stays text).
 * Returns the text and the number of parameters it expects.
 */
export function toPostgresPlaceholders(text: string): { text: string; count: number } {
  let out = '';
  let count = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "'" || c === '"') {
      const end = closing(text, i, c);
      out += text.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '$' && /^\$[A-Za-z_]*\$/.test(text.slice(i))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))![0];
      const end = text.indexOf(tag, i + tag.length);
      const stop = end < 0 ? text.length : end + tag.length;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      count += 1;
      out += `$${count}`;
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return { text: out, count };
}

/** Index just after the quote closing the one at `start` (a doubled quote is an escaped quote). */
function closing(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i += 1;
  }
  return text.length;
}
