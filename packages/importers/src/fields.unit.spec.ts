import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { splitFields } from './fields.js';

describe('splitFields', () => {
  it('splits on runs of whitespace, ignoring leading and trailing blanks', () => {
    expect(splitFields(' 00004 0001 19970101  2   29.33', 'whitespace')).toEqual(
      E.right(['00004', '0001', '19970101', '2', '29.33']),
    );
  });
  it('splits on a character and trims fields', () => {
    expect(splitFields('a; b ;c;', ';')).toEqual(E.right(['a', 'b', 'c', '']));
  });
  it('reads quoted fields with delimiters and doubled quotes inside', () => {
    expect(splitFields('"c-1","Smith, ""Jo""",12.00,', ',')).toEqual(
      E.right(['c-1', 'Smith, "Jo"', '12.00', '']),
    );
  });
  it('reports an unterminated quote', () => {
    expect(E.isLeft(splitFields('"c-1,12.00', ','))).toBe(true);
  });
});
