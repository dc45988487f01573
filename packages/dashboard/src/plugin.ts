import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { sendError, type HttpApp } from '@crm-ledger/http-kit';
import { dashboardAssets } from './assets.js';

export interface DashboardOptions {
  /** Where the pages live (default `/dashboard`). */
  readonly prefix?: string;
}

export const DEFAULT_DASHBOARD_PREFIX = '/dashboard';

/**
 * Registers the dashboard's pages: `GET <prefix>/` (overview), `<prefix>/customer.html?id=...` (customer 360)
 * and their scripts. The pages hold no data: they ask the analyst for a read-scoped API key once (kept in
 * sessionStorage) and call the query API with it, so authorization stays where the data is served.
 */
export function registerDashboard(app: HttpApp, options: DashboardOptions = {}): void {
  const prefix = options.prefix ?? DEFAULT_DASHBOARD_PREFIX;
  const assets = dashboardAssets();
  app.get(prefix, { schema: { hide: true } }, (_req, reply) => reply.redirect(`${prefix}/`));
  app.get(`${prefix}/*`, { schema: { hide: true, params: z.object({ '*': z.string() }) } }, (req, reply) => {
    const asset = assets.get(req.params['*']);
    if (asset === undefined) return sendError(reply, 404, 'not_found', 'no such dashboard file');
    return reply.type(asset.type).header('cache-control', 'no-cache').send(createReadStream(asset.file));
  });
}
