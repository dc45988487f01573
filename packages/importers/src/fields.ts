import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';

/** How fields are separated: a character, or `whitespace` (runs of spaces/tabs; leading/trailing ignored). */
export const Delimiter = z.union([
  z.enum(['whitespace']),
  z
    .string()
    .length(1)
    .regex(/^[^"\r\n]$/, 'one character, not a quote or newline'),
]);
export type Delimiter = z.infer<typeof Delimiter>;

/**
 * Splits one line into fields. With a character delimiter, fields may be quoted CSV-style
 * (`"a, b"`, `""` for a quote inside); a quoted field cannot span lines (records are one line each).
 */
export function splitFields(line: string, delimiter: Delimiter): E.Either<string, string[]> {
  if (delimiter === 'whitespace') {
    const t = line.trim();
    return E.right(t.length === 0 ? [] : t.split(/[ \t]+/));
  }
  if (!line.includes('"')) return E.right(line.split(delimiter).map((f) => f.trim()));
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) return E.left('unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (line[i] === ' ') i++;
      fields.push(value);
      if (i >= line.length) return E.right(fields);
      if (line[i] !== delimiter)
        return E.left(`unexpected character after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const next = line.indexOf(delimiter, i);
      if (next === -1) {
        fields.push(line.slice(i).trim());
        return E.right(fields);
      }
      fields.push(line.slice(i, next).trim());
      i = next + 1;
    }
  }
}
