import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, never a downloaded browser. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Puts the read key in the tab's sessionStorage before any page script runs (no key dialog). */
export async function withReadKey(page: Page, key: string): Promise<void> {
  await page.addInitScript((k) => {
    const g = globalThis as unknown as { sessionStorage: { setItem(name: string, v: string): void } };
    g.sessionStorage.setItem('crm-ledger.readKey', k);
  }, key);
}
