// Tokens for the dashboard, with the API's meaning (src/server/api/): KTRIAGE_TOKEN reads and
// writes; KTRIAGE_READ_TOKEN only reads; KTRIAGE_WRITE_TOKEN reads and writes. A browser cannot send
// `Authorization: Bearer`, so /login takes the token in a form and keeps it in an HttpOnly,
// SameSite=Strict cookie; scripts and curl may still send the header. No token configured: open,
// as the API is (serve warns when it listens beyond loopback without one).
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ApiAuth } from '../api/index.ts';
import { html } from './html.ts';
import { page } from './layout.ts';

export const COOKIE = 'ktriage_token';

export interface PageAuth {
  readNeeds: boolean;
  writeNeeds: boolean;
  readOk: string[];
  writeOk: string[];
}

export function pageAuth(auth: ApiAuth): PageAuth {
  const t = (x: string | null | undefined): x is string => Boolean(x);
  return {
    readNeeds: Boolean(auth.token || auth.readToken),
    writeNeeds: Boolean(auth.token || auth.readToken || auth.writeToken),
    readOk: [auth.token, auth.readToken, auth.writeToken].filter(t),
    writeOk: [auth.token, auth.writeToken].filter(t),
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token the request carries: the Authorization header, else the login cookie. */
export function givenToken(c: Context): string | null {
  const h = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (m) return m[1]!;
  return getCookie(c, COOKIE) ?? null;
}

/** A token this server knows (any that may at least read). */
export function isValidToken(a: PageAuth, token: string): boolean {
  return token !== '' && a.readOk.some((ok) => same(ok, token));
}

export function mayRead(a: PageAuth, c: Context): boolean {
  if (!a.readNeeds) return true;
  const t = givenToken(c);
  return t !== null && isValidToken(a, t);
}

export function mayWrite(a: PageAuth, c: Context): boolean {
  if (!a.writeNeeds) return true;
  const t = givenToken(c);
  return t !== null && a.writeOk.some((ok) => same(ok, t));
}

/** Only a same-origin path may be a post-login destination (no `//host`, no scheme). */
export function safeNext(next: string | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused.
  if (/[\u0000-\u001f\u007f]/.test(next)) return '/';
  return next;
}

export function renderLogin(next: string, error: string | null, why: string): string {
  const body = html`<h1>Sign in</h1>
<p>${why}</p>
${error ? html`<p class="error" role="alert" id="login-error">${error}</p>` : ''}
<form class="upload" method="post" action="/login"${error ? html` aria-describedby="login-error"` : ''}>
<input type="hidden" name="next" value="${safeNext(next)}">
<div><label for="l-token">Token</label>
<input id="l-token" name="token" type="password" autocomplete="current-password" required></div>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`;
  return page({ title: 'Sign in', section: 'other', body });
}

export function setLoginCookie(c: Context, token: string): void {
  setCookie(c, COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: new URL(c.req.url).protocol === 'https:',
    maxAge: 30 * 86400,
  });
}

export function clearLoginCookie(c: Context): void {
  deleteCookie(c, COOKIE, { path: '/' });
}
