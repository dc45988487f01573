import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { ValidationIssue } from '@crm-ledger/events';

/** Machine-readable error codes: stable, part of the API contract. */
export const ERROR_CODES = [
  'unauthenticated',
  'forbidden',
  'invalid_request',
  'duplicate_key',
  'request_timeout',
  'uri_too_long',
  'headers_too_large',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  'wrong_expected_revision',
  'idempotency_conflict',
  'customer_erased',
  'stream_full',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const Issue = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  code: z.string(),
  message: z.string(),
});

/** The one JSON error shape of every crm-ledger HTTP API: `{ error: { code, message, issues? } }`. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      issues: z.array(Issue).optional(),
    }),
  })
  .meta({
    id: 'Error',
    description: 'Every error answer: a stable code, a message for humans, validation issues',
  });
export type ErrorBody = z.infer<typeof ErrorBody>;

export function errorBody(code: ErrorCode, message: string, issues?: readonly ValidationIssue[]): ErrorBody {
  return {
    error:
      issues === undefined
        ? { code, message }
        : { code, message, issues: issues.map((i) => ({ ...i, path: [...i.path] })) },
  };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  issues?: readonly ValidationIssue[],
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(errorBody(code, message, issues));
}

/** Response schemas of the errors every authenticated JSON route can answer, for OpenAPI. */
export const commonErrorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  429: ErrorBody,
} as const;
