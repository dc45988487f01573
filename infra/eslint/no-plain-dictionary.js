// @ts-check
/**
 * ESLint rule `crm/no-plain-dictionary`: a string-keyed dictionary must not be a plain object, whose
 * prototype turns keys such as `constructor`, `toString` or `__proto__` into something else (issue #14).
 * Reported, with type information:
 * - an object literal with no fixed key (`{}`, or only spreads / computed keys) where the expected type has a
 *   string index signature (`Record<string, T>`, `{ [k: string]: T }`): use `emptyRecord()` /
 *   `recordFrom()` from `@crm-ledger/events`;
 * - `Object.fromEntries(...)`: use `recordFrom(...)`;
 * - `JSON.parse(...) as T` where T holds a string-keyed dictionary at any depth: use `parseJsonRecords`.
 */

/** @param {import('typescript').Type} type */
function isDictionary(type) {
  if (type.isUnion() || type.isIntersection()) return type.types.some(isDictionary);
  return type.getStringIndexType() !== undefined;
}

/**
 * @param {import('typescript').TypeChecker} checker
 * @param {import('typescript').Type} type
 * @param {number} depth
 * @param {Set<import('typescript').Type>} seen
 * @returns {boolean}
 */
function holdsDictionary(checker, type, depth, seen) {
  if (depth > 4 || seen.has(type)) return false;
  seen.add(type);
  if (type.isUnion() || type.isIntersection())
    return type.types.some((t) => holdsDictionary(checker, t, depth, seen));
  if (type.getStringIndexType() !== undefined) return true;
  const element = type.getNumberIndexType();
  if (element !== undefined && holdsDictionary(checker, element, depth + 1, seen)) return true;
  for (const p of checker.getPropertiesOfType(type)) {
    const decl = p.valueDeclaration ?? p.declarations?.[0];
    if (decl === undefined) continue;
    if (holdsDictionary(checker, checker.getTypeOfSymbolAtLocation(p, decl), depth + 1, seen)) return true;
  }
  return false;
}

/** @type {import('eslint').Rule.RuleModule} */
export const noPlainDictionary = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      literal:
        'A string-keyed dictionary must not inherit Object.prototype: use emptyRecord() or recordFrom() (@crm-ledger/events).',
      fromEntries: 'Object.fromEntries makes a plain object: use recordFrom() (@crm-ledger/events).',
      parse:
        'JSON.parse gives objects that inherit Object.prototype: decode state holding dictionaries with parseJsonRecords().',
    },
  },
  create(context) {
    const services = /** @type {any} */ (context.sourceCode.parserServices);
    if (services?.program == null) return {};
    /** @type {import('typescript').TypeChecker} */
    const checker = services.program.getTypeChecker();
    return {
      ObjectExpression(node) {
        // Fixed keys (`a: 1`, or constants such as `[HEADERS.id]: ...`) make a record, not a dictionary.
        if (
          node.properties.some(
            (p) => p.type === 'Property' && (!p.computed || p.key.type === 'MemberExpression'),
          )
        )
          return;
        const tsNode = services.esTreeNodeToTSNodeMap.get(node);
        const expected = checker.getContextualType(tsNode);
        if (expected !== undefined && isDictionary(expected)) context.report({ node, messageId: 'literal' });
      },
      CallExpression(node) {
        const c = node.callee;
        if (
          c.type === 'MemberExpression' &&
          c.object.type === 'Identifier' &&
          c.object.name === 'Object' &&
          c.property.type === 'Identifier' &&
          c.property.name === 'fromEntries'
        )
          context.report({ node, messageId: 'fromEntries' });
      },
      TSAsExpression(node) {
        const e = node.expression;
        if (
          e.type !== 'CallExpression' ||
          e.callee.type !== 'MemberExpression' ||
          e.callee.object.type !== 'Identifier' ||
          e.callee.object.name !== 'JSON' ||
          e.callee.property.type !== 'Identifier' ||
          e.callee.property.name !== 'parse'
        )
          return;
        const type = checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node));
        if (holdsDictionary(checker, type, 0, new Set())) context.report({ node, messageId: 'parse' });
      },
    };
  },
};
