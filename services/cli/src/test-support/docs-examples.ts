/**
 * The shell examples of a Markdown document, as the docs spec runs them.
 *
 * - A fenced block whose info string is `sh`, `bash` or `shell` holds examples; other blocks (text, json, sql,
 *   plain fences for usage synopses and output) do not. SQL examples of docs/read-models.md have their own spec.
 * - A block opts out with an HTML comment on the line before its fence (blank lines between allowed):
 *   `<!-- doc-test: skip: <why> -->`, e.g. a command that needs Docker or runs a server in the foreground. The
 *   reason is required, so every example that is not run says why.
 * - Lines ending in `\` continue the command. A line of only variable assignments (`KEY=$(cat .data/admin.key)`)
 *   is kept and run before every later command of the same document.
 * - A comment line (`# ...`) describes the commands after it: when it mentions an error (error, refused,
 *   rejected), those curl commands must answer the documented error shape, otherwise they must not answer one.
 */
export type DocCommand =
  | { readonly kind: 'assignment'; readonly text: string; readonly line: number }
  | {
      readonly kind: 'curl' | 'command';
      readonly text: string;
      readonly line: number;
      /** The comment above says an error is the answer. */
      readonly expectsError: boolean;
      /** The command writes its output to a file (`>`, `--out`), so printing nothing is fine. */
      readonly quiet: boolean;
    };

const FENCE = /^\s*```\s*([A-Za-z0-9_-]*)\s*$/;
const SKIP = /^<!--\s*doc-test:\s*skip:\s*\S.*-->\s*$/;
const RUNNABLE = new Set(['sh', 'bash', 'shell']);
const ASSIGNMENT = /^\s*[A-Za-z_][A-Za-z0-9_]*=\S*/;

export function docExamples(markdown: string): DocCommand[] {
  const lines = markdown.split('\n');
  const out: DocCommand[] = [];
  let i = 0;
  while (i < lines.length) {
    const fence = FENCE.exec(lines[i]!);
    if (fence === null) {
      i++;
      continue;
    }
    const info = fence[1]!.toLowerCase();
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    const body = lines.slice(start + 1, end);
    i = end + 1;
    if (!RUNNABLE.has(info) || skipped(lines, start)) continue;
    let comment = '';
    let afterComment = false;
    for (let j = 0; j < body.length; j++) {
      const raw = body[j]!;
      const trimmed = raw.trim();
      if (trimmed === '') continue;
      if (trimmed.startsWith('#')) {
        // consecutive comment lines are one comment
        comment = afterComment ? `${comment} ${trimmed}` : trimmed;
        afterComment = true;
        continue;
      }
      afterComment = false;
      const line = start + 2 + j;
      let text = raw;
      while (text.trimEnd().endsWith('\\') && j + 1 < body.length) text = `${text}\n${body[++j]!}`;
      if (isAssignment(text)) {
        out.push({ kind: 'assignment', text, line });
        continue;
      }
      out.push({
        kind: /^\s*curl\s/.test(text) ? 'curl' : 'command',
        text,
        line,
        expectsError: /\berrors?\b|\brefused|\brejected/i.test(comment),
        quiet: /(^|[^2&])>\s*[^&|]|--out\b|--export-digest\b/.test(stripComment(text)),
      });
    }
  }
  return out;
}

function skipped(lines: readonly string[], fence: number): boolean {
  for (let k = fence - 1; k >= 0; k--) {
    const l = lines[k]!.trim();
    if (l === '') continue;
    return SKIP.test(l);
  }
  return false;
}

/** `KEY=...; H="..."`: every `;`-separated part assigns a variable and runs nothing. */
function isAssignment(text: string): boolean {
  const parts = stripComment(text)
    .split(/;(?=(?:[^"']|"[^"]*"|'[^']*')*$)/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return (
    parts.length > 0 &&
    parts.every(
      (p) => ASSIGNMENT.test(p) && !/^\S+=\S*\s+\S/.test(p.replace(/"[^"]*"|'[^']*'|\$\([^)]*\)/g, 'x')),
    )
  );
}

/** The command without a trailing `# comment` (a `#` after white space, outside quotes). */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (k === 0 || /\s/.test(text[k - 1]!))) return text.slice(0, k);
  }
  return text;
}
